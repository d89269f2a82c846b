//! What fuel metering and epoch interruption cost: a Python CPU loop run in-process with three
//! engines (fuel + epoch as nestbox uses, epoch only, neither), each compiled here. The runtime must
//! be a WASI command module with its standard library embedded, such as the stdlib-only CPython
//! 3.12.0 build scripts/bench.sh fetches (the Python plugin's own runtime is a reactor and is not
//! supported here).
//!
//!   cargo run --release --example fuel_overhead -- ~/.cache/nestbox-bench/python-3.12.0.wasm [CODE]
//!
//! Used by scripts/bench.sh; prints one `name seconds` line per engine and the ratios.

use std::time::Instant;

use wasmtime::{Config, Engine, Linker, Module, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

fn engine(fuel: bool, epoch: bool) -> Engine {
    let mut c = Config::new();
    c.consume_fuel(fuel).epoch_interruption(epoch);
    Engine::new(&c).expect("engine")
}

fn run(engine: &Engine, module: &Module, code: &str, fuel: bool, epoch: bool) -> (f64, u64) {
    let mut linker: Linker<WasiP1Ctx> = Linker::new(engine);
    p1::add_to_linker_sync(&mut linker, |s| s).expect("linking WASI");
    let wasi = WasiCtxBuilder::new()
        .args(&["python", "-c", code])
        .inherit_stdout()
        .build_p1();
    let mut store = Store::new(engine, wasi);
    if fuel {
        store.set_fuel(u64::MAX).unwrap();
    }
    if epoch {
        store.set_epoch_deadline(u64::MAX / 2);
    }
    let started = Instant::now();
    let instance = linker.instantiate(&mut store, module).expect("instantiate");
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .expect("_start");
    let _ = start.call(&mut store, ());
    let used = if fuel {
        u64::MAX - store.get_fuel().unwrap()
    } else {
        0
    };
    (started.elapsed().as_secs_f64(), used)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let wasm = args
        .next()
        .expect("usage: fuel_overhead PYTHON_WASM [CODE] (a WASI command module)");
    let code = args
        .next()
        .unwrap_or_else(|| "print(sum(i * i for i in range(10**7)))".into());
    let bytes = std::fs::read(&wasm).expect("reading the Python runtime");
    let mut times = Vec::new();
    for (name, fuel, epoch) in [
        ("fuel+epoch", true, true),
        ("epoch-only", false, true),
        ("neither", false, false),
    ] {
        let e = engine(fuel, epoch);
        let module = Module::new(&e, &bytes).expect("compiling");
        let (secs, used) = run(&e, &module, &code, fuel, epoch);
        println!(
            "{name} {secs:.3} s{}",
            if fuel {
                format!(" fuel {used}")
            } else {
                String::new()
            }
        );
        times.push(secs);
    }
    println!(
        "fuel overhead {:.0}% (fuel+epoch vs epoch-only); epoch overhead {:.0}% (epoch-only vs neither)",
        (times[0] / times[1] - 1.0) * 100.0,
        (times[1] / times[2] - 1.0) * 100.0
    );
}
