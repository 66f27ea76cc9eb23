//! Collects every error found while reading the input, so that they are reported together.

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// The error collector, passed to every parsing and checking function.
///
/// Like serde_derive's `Ctxt`: nothing stops at the first problem; [`Ctxt::check`] combines
/// every error into one `syn::Error` whose `to_compile_error` emits them all, each at its own
/// span.
pub struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error spanning the tokens of `obj`.
    pub fn error_spanned_by<A: ToTokens, T: Display>(&self, obj: A, msg: T) {
        self.syn_error(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// Records an error at a span.
    pub fn error_at<T: Display>(&self, span: proc_macro2::Span, msg: T) {
        self.syn_error(syn::Error::new(span, msg));
    }

    /// Records a `syn` parse error.
    pub fn syn_error(&self, err: syn::Error) {
        // `check` consumes the collector, so the errors are still there.
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(err);
        }
    }

    /// Consumes the collector: `Err` with all errors combined if there were any.
    pub fn check(self) -> syn::Result<()> {
        // `check` consumes the collector, so it runs once and the errors are still there.
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let mut iter = errors.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in iter {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}

impl Drop for Ctxt {
    // Reason: serde_derive's guard against unreported errors (a bug here); it is a compile error.
    #[allow(clippy::panic)]
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}
