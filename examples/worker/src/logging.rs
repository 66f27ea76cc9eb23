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
//! A `tracing-subscriber` layer of its own rather than its `fmt` layer: the same line for
//! these events in less wasm (measured with `scripts/worker-size.sh`: the subscriber adds
//! 34 KB raw / 15 KB gzipped this way, 55 KB / 24 KB with `fmt`, which also formats spans,
//! times, thread names…).

use std::fmt::{self, Write};
use std::sync::Once;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
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
        let subscriber = tracing_subscriber::registry().with(Console).with(filter);
        // Fails only if a subscriber is already installed, which then stays.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Writes each event as one console line.
struct Console;

impl<S: Subscriber> Layer<S> for Console {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
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
