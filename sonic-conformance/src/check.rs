//! Assertions that return a precise failure message instead of panicking.
//!
//! A panic on wasm32 kills the Worker (and with it the report), so scenarios never unwrap:
//! every step is `step(...)?` or one of the comparisons below, and a failure says what was
//! done, what was expected and what came back.

use std::fmt::{Debug, Display};

use sonic_db_core::Error;

/// What a scenario returns: `Err` holds what differed.
pub(crate) type Outcome = Result<(), String>;

/// Turns a Sonic result into a scenario step: an error becomes the failure message, naming
/// the step.
pub(crate) trait Step<T> {
    /// `Ok` as is; an error as "`what`: unexpected error: …".
    fn step(self, what: impl Display) -> Result<T, String>;
}

impl<T> Step<T> for sonic_db_core::Result<T> {
    fn step(self, what: impl Display) -> Result<T, String> {
        self.map_err(|e| format!("{what}: unexpected error: {e} ({})", kind(&e)))
    }
}

/// The variant name of an error, for messages.
pub(crate) fn kind(error: &Error) -> &'static str {
    match error {
        Error::Decode { .. } => "Error::Decode",
        Error::Encode { .. } => "Error::Encode",
        Error::UnknownColumn { .. } => "Error::UnknownColumn",
        Error::UniqueViolation { .. } => "Error::UniqueViolation",
        Error::ForeignKeyViolation { .. } => "Error::ForeignKeyViolation",
        Error::ConstraintViolation { .. } => "Error::ConstraintViolation",
        Error::Database { .. } => "Error::Database",
        Error::Limit(_) => "Error::Limit",
        Error::InvalidQuery(_) => "Error::InvalidQuery",
        Error::NotFound { .. } => "Error::NotFound",
        Error::Kv(_) => "Error::Kv",
        Error::Json(_) => "Error::Json",
        _ => "another Error variant",
    }
}

/// Fails unless `got == expected`.
pub(crate) fn same<T: PartialEq + Debug + ?Sized>(what: &str, expected: &T, got: &T) -> Outcome {
    if expected == got {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, got {got:?}"))
    }
}

/// Fails unless both lists are equal, naming the first difference (lists can be long).
pub(crate) fn same_list<T: PartialEq + Debug>(what: &str, expected: &[T], got: &[T]) -> Outcome {
    if let Some((i, (e, g))) = expected
        .iter()
        .zip(got)
        .enumerate()
        .find(|(_, (e, g))| e != g)
    {
        return Err(format!(
            "{what}: item {i} differs (of {} expected, {} got): expected {e:?}, got {g:?}",
            expected.len(),
            got.len()
        ));
    }
    if expected.len() != got.len() {
        let extra = |list: &[T]| {
            list.get(expected.len().min(got.len()))
                .map_or_else(String::new, |x| format!("; first extra item: {x:?}"))
        };
        let detail = if got.len() > expected.len() {
            extra(got)
        } else {
            extra(expected)
        };
        return Err(format!(
            "{what}: expected {} items, got {} (the common prefix is equal){detail}",
            expected.len(),
            got.len()
        ));
    }
    Ok(())
}

/// Fails with `message` unless `condition`.
pub(crate) fn ensure(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message())
    }
}

/// Fails unless `result` is an error accepted by `accept`; `expected` names it.
pub(crate) fn expect_error<T: Debug>(
    what: &str,
    expected: &str,
    result: sonic_db_core::Result<T>,
    accept: impl FnOnce(&Error) -> bool,
) -> Outcome {
    match result {
        Err(e) if accept(&e) => Ok(()),
        Err(e) => Err(format!(
            "{what}: expected {expected}, got {}: {e}",
            kind(&e)
        )),
        Ok(v) => Err(format!("{what}: expected {expected}, got Ok({v:?})")),
    }
}

/// Runs every check and joins the failures (so one scenario reports all it found).
pub(crate) fn all(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    let failures: Vec<String> = outcomes.into_iter().filter_map(Result::err).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}
