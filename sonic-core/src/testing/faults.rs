//! [`FaultInjector`]: the seeded, switchable source of faults that
//! [`FaultySql`](crate::testing::faulty_sql::FaultySql) and
//! [`FaultyKv`](crate::testing::kv::FaultyKv) share.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::testing::kv::SeededRng;

#[derive(Debug)]
struct State<R> {
    rng: SeededRng,
    rates: R,
    injected: u64,
}

/// Draws faults at rates `R` from a seeded generator, counting those injected; can be turned
/// off and on. Clones share the generator, the rates, the count and the switch.
#[derive(Debug)]
pub(crate) struct FaultInjector<R> {
    state: Arc<Mutex<State<R>>>,
    enabled: Arc<AtomicBool>,
}

impl<R> Clone for FaultInjector<R> {
    fn clone(&self) -> Self {
        FaultInjector {
            state: Arc::clone(&self.state),
            enabled: Arc::clone(&self.enabled),
        }
    }
}

impl<R> FaultInjector<R> {
    /// Enabled, at `rates`, drawing from a generator seeded `seed`.
    pub(crate) fn new(seed: u64, rates: R) -> Self {
        FaultInjector {
            state: Arc::new(Mutex::new(State {
                rng: SeededRng::new(seed),
                rates,
                injected: 0,
            })),
            enabled: Arc::new(AtomicBool::new(true)),
        }
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
    }

    pub(crate) fn set_rates(&self, rates: R) {
        self.state().rates = rates;
    }

    pub(crate) fn injected(&self) -> u64 {
        self.state().injected
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<R>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fault `draw` picks from the rates and the generator, counted as injected; `None`
    /// (without drawing) while disabled.
    pub(crate) fn draw<F>(&self, draw: impl FnOnce(&R, &mut SeededRng) -> Option<F>) -> Option<F> {
        if !self.enabled.load(Ordering::SeqCst) {
            return None;
        }
        let mut state = self.state();
        let State { rng, rates, .. } = &mut *state;
        let fault = draw(rates, rng);
        if fault.is_some() {
            state.injected += 1;
        }
        fault
    }
}
