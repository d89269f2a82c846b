//! The one Wasmtime engine configuration nestbox uses. Precompiled modules are only valid for an
//! engine built with these settings (the module cache key includes them).

use wasmtime::{Config, Engine, OptLevel};

/// The Wasmtime version nestbox is built with (pinned exactly in host/Cargo.toml), recorded
/// beside precompiled modules. The cache key also covers it through the engine's own
/// compatibility hash.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// The most native stack WebAssembly frames may use.
pub const WASM_STACK_BYTES: usize = 512 << 20;

/// CPU features gVisor hides from the code it runs (its CPUID emulation masks them, since the
/// Sentry does not manage their register state). Modules are compiled on the host but run inside
/// the sandbox, so they must not use these even when the host has them; both sides build the same
/// engine, so the module cache key covers this list.
const SANDBOX_HIDDEN_FEATURES: &[&str] = &[
    "has_avx_vnni",
    "has_avx512vnni",
    "has_avx512bitalg",
    "has_avx512dq",
    "has_avx512f",
    "has_avx512vl",
    "has_avx512vbmi",
];

/// Build the engine: async (so blocking host calls can be cut off at the deadline), fuel metering
/// (the CPU budget) and epoch interruption (the wall clock), Cranelift optimising for speed.
pub fn new_engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        // C++ code in the Python runtime (pybind11 extensions) throws WebAssembly exceptions.
        .wasm_exceptions(true)
        // The GC proposals come with the `gc` crate feature that exceptions need; no plugin uses
        // them, so they stay off (less of Wasmtime reachable from guest code).
        .wasm_gc(false)
        .wasm_function_references(false)
        // Guest stack for WebAssembly frames: CPython for WASI checks its own recursion against
        // its linear-memory stack, which needs this much native stack behind it; a runaway
        // recursion that still exhausts it traps as a stack overflow (an ordinary ERROR). The
        // async stack leaves room for host calls on top of it (both are reserved, not touched).
        .max_wasm_stack(WASM_STACK_BYTES)
        .async_stack_size(WASM_STACK_BYTES + (2 << 20));
    for flag in SANDBOX_HIDDEN_FEATURES {
        // SAFETY: this only turns CPU features *off*, which is always safe to execute.
        unsafe {
            config.cranelift_flag_set(flag, "false");
        }
    }
    Engine::new(&config)
}

#[cfg(test)]
mod tests {
    #[test]
    fn recorded_version_matches_the_pinned_dependency() {
        let manifest = include_str!("../Cargo.toml");
        assert!(
            manifest.contains(&format!(
                "wasmtime = {{ version = \"={}\"",
                super::WASMTIME_VERSION
            )),
            "update WASMTIME_VERSION to the version pinned in host/Cargo.toml"
        );
    }
}
