//! Every inner-wall limit is applied to a Wasmtime store here, in one place: memory (a resource
//! limiter over all linear memories and tables), fuel (the CPU budget) and the epoch deadline (the
//! wall clock for running code; blocking host calls are bounded by the caller's timeout on the
//! same deadline, see `runner::run`).

use std::time::Duration;

use wasmtime::{ResourceLimiter, Store};

use crate::limits::Limits;

/// How often the engine's epoch advances; the wall-clock deadline is counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most table elements any one table may have (CPython needs a few thousand).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Tracks linear memory and refuses growth past the limit, remembering that it did.
#[derive(Debug)]
pub struct MemoryLimiter {
    max_bytes: usize,
    used_bytes: usize,
    /// Set when a growth was refused: a failure after this is a MEMORY_LIMIT.
    pub denied: bool,
    /// The largest total seen, for reports.
    pub peak_bytes: usize,
}

impl MemoryLimiter {
    pub fn new(max_bytes: u64) -> MemoryLimiter {
        MemoryLimiter {
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            used_bytes: 0,
            denied: false,
            peak_bytes: 0,
        }
    }

    /// Memory still available, for nested executions that share this budget.
    pub fn remaining(&self) -> u64 {
        self.max_bytes.saturating_sub(self.used_bytes) as u64
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let after = self
            .used_bytes
            .saturating_sub(current)
            .saturating_add(desired);
        if after > self.max_bytes {
            self.denied = true;
            return Ok(false);
        }
        self.used_bytes = after;
        self.peak_bytes = self.peak_bytes.max(after);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.denied = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        4
    }

    fn memories(&self) -> usize {
        4
    }

    fn tables(&self) -> usize {
        8
    }
}

/// Anything kept in a store that owns a [`MemoryLimiter`].
pub trait HasLimiter {
    fn limiter(&mut self) -> &mut MemoryLimiter;
}

/// Apply `limits` to a fresh store: the one place the inner wall's limits are set.
pub fn apply<T: HasLimiter + 'static>(
    store: &mut Store<T>,
    limits: &Limits,
) -> wasmtime::Result<()> {
    store.limiter(|state| state.limiter());
    store.set_fuel(limits.fuel)?;
    let ticks = limits
        .max_runtime()
        .as_millis()
        .div_ceil(EPOCH_TICK.as_millis())
        .max(1) as u64;
    store.set_epoch_deadline(ticks);
    store.epoch_deadline_trap();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_all_growth_and_remembers_denials() {
        let mut l = MemoryLimiter::new(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_growing(60, 90, None).unwrap());
        assert!(!l.denied);
        assert!(!l.memory_growing(90, 101, None).unwrap());
        assert!(l.denied);
        assert_eq!(l.remaining(), 10);
        assert_eq!(l.peak_bytes, 90);
        // A second memory shares the same budget.
        assert!(!l.memory_growing(0, 20, None).unwrap());
        assert!(l.memory_growing(0, 10, None).unwrap());
    }
}
