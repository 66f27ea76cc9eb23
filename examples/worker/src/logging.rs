//! Sonic's `tracing` events on the Workers console, which `wrangler tail` (and the local
//! `wrangler dev` output) shows: one `console.log` line per event (`console.warn` /
//! `console.error` for warnings and errors), as `LEVEL target: message field=value …`.
//!
//! Filtered by the Worker's variable `SONIC_LOG` (in `[vars]` of `wrangler.toml`, or
//! `wrangler dev --var SONIC_LOG:debug`): `debug` for every statement, eager-loading strategy
//! and KV cache decision, or per target, `sonic::sql=debug,sonic::cache=debug`. Without it,
//! warnings only (the KV cache's healing and failures). The events are listed in
//! `sonic_db_core::trace`.
//!
//! A `tracing` subscriber of its own, filtered by `tracing-subscriber`'s `Targets`, rather than
//! its `fmt` layer or its registry with a layer: the same line for these events in less wasm.
//! Sonic opens no spans, so the subscriber keeps none (the registry's span storage, and the
//! layering, weighed 12 KB of wasm before `wasm-opt`). Measured with `scripts/worker-size.sh`:
//! a layer on the registry added 34 KB raw / 15 KB gzipped, the `fmt` layer 55 KB / 24 KB.

use std::fmt::{self, Write};
use std::sync::Once;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use worker::Env;

/// Installs the console subscriber, once per isolate (the first request's `SONIC_LOG` holds
/// for the isolate's life).
pub fn init(env: &Env) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let directives = env
            .var("SONIC_LOG")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let filter = match directives.trim() {
            "" => Targets::new().with_default(Level::WARN),
            directives => directives.parse::<Targets>().unwrap_or_else(|error| {
                worker::console_warn!("SONIC_LOG `{directives}` is not a valid filter: {error}");
                Targets::new().with_default(Level::WARN)
            }),
        };
        let max_level = max_level(&filter);
        // Fails only if a subscriber is already installed, which then stays.
        let _ = tracing::subscriber::set_global_default(Console { filter, max_level });
    });
}

/// The most verbose level any directive of `filter` enables, as `Targets` reports it to a
/// registry (its `max_level_hint`).
fn max_level(filter: &Targets) -> LevelFilter {
    filter
        .iter()
        .map(|(_, level)| level)
        .chain(filter.default_level())
        .max()
        .unwrap_or(LevelFilter::OFF)
}

/// Writes each event the filter enables as one console line.
struct Console {
    filter: Targets,
    max_level: LevelFilter,
}

impl Console {
    fn enables(&self, meta: &Metadata<'_>) -> bool {
        self.filter.would_enable(meta.target(), meta.level())
    }
}

impl Subscriber for Console {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.enables(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        self.enables(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = String::with_capacity(128);
        let _ = write!(line, "{} {}:", meta.level(), meta.target());
        event.record(&mut Fields(&mut line));
        match *meta.level() {
            Level::ERROR => worker::console_error!("{line}"),
            Level::WARN => worker::console_warn!("{line}"),
            _ => worker::console_log!("{line}"),
        }
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// Appends an event's fields: the message as is, the others as ` name=value`.
struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = match field.name() {
            "message" => write!(self.0, " {value:?}"),
            name => write!(self.0, " {name}={value:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_is_the_most_verbose_directive() {
        let parse = |text: &str| text.parse::<Targets>().unwrap();
        assert_eq!(
            max_level(&parse("sonic::sql=debug,warn")),
            LevelFilter::DEBUG
        );
        assert_eq!(max_level(&parse("info")), LevelFilter::INFO);
        assert_eq!(max_level(&parse("sonic::cache=trace")), LevelFilter::TRACE);
        assert_eq!(
            max_level(&Targets::new().with_default(Level::WARN)),
            LevelFilter::WARN
        );
        assert_eq!(max_level(&Targets::new()), LevelFilter::OFF);
    }
}
