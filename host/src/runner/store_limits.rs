//! Every inner-wall limit is applied to a Wasmtime store here, in one place: memory (a resource
//! limiter over all linear memories and tables), fuel (the CPU budget) and the epoch deadline (the
//! wall clock for running code; blocking host calls are bounded by the caller's timeout on the
//! same deadline, see `runner::run`).

use std::time::Duration;

use wasmtime::{AsContextMut, ResourceLimiter, Store, StoreContextMut};

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

    /// Linear memory in use now.
    pub fn used_bytes(&self) -> u64 {
        self.used_bytes as u64
    }

    /// The job's own limit, once a prepared start-up is over: the memory the start-up holds
    /// stays counted (the job cannot free it), the peak starts from it, and an earlier refusal
    /// is forgotten.
    pub fn restart(&mut self, max_bytes: u64) {
        self.max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        self.denied = false;
        self.peak_bytes = self.used_bytes;
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
    store.epoch_deadline_trap();
    restart(&mut store.as_context_mut(), limits)
}

/// Set a store's budget afresh: fuel and the epoch deadline from now, the memory limit (memory
/// already in use stays counted). Used for a fresh store and again when a prepared start-up
/// hands over to its job, so the job's limits count only its own code.
pub fn restart<T: HasLimiter + 'static>(
    store: &mut StoreContextMut<'_, T>,
    limits: &Limits,
) -> wasmtime::Result<()> {
    store
        .data_mut()
        .limiter()
        .restart(limits.max_memory_bytes());
    store.set_fuel(limits.fuel)?;
    store.set_epoch_deadline(epoch_ticks(limits));
    Ok(())
}

fn epoch_ticks(limits: &Limits) -> u64 {
    limits
        .max_runtime()
        .as_millis()
        .div_ceil(EPOCH_TICK.as_millis())
        .max(1) as u64
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

    #[test]
    fn restart_keeps_memory_in_use_counted_under_the_new_limit() {
        let mut l = MemoryLimiter::new(1000);
        assert!(l.memory_growing(0, 600, None).unwrap());
        assert!(!l.memory_growing(600, 1001, None).unwrap());
        l.restart(700);
        assert!(!l.denied);
        assert_eq!((l.used_bytes(), l.peak_bytes), (600, 600));
        assert!(!l.memory_growing(600, 701, None).unwrap());
        assert!(l.denied);
        assert!(l.memory_growing(600, 700, None).unwrap());
    }
}
