//! nestbox runs untrusted, LLM-written code behind two independent walls: a fresh gVisor sandbox
//! outside (`sandbox`), and Wasmtime inside (`runner`) running each language as a WebAssembly
//! plugin (`plugin`). `execute` ties them together; `cli` is the command line.

pub mod cli;
pub mod doctor;
pub mod ending;
pub mod engine;
pub mod execute;
pub mod job;
pub mod language_check;
pub mod limits;
#[cfg(test)]
mod module_graph;
pub mod open_beneath;
pub mod plugin;
pub mod result;
pub mod returned_files;
pub mod runner;
pub mod runtime;
pub mod sandbox;
pub mod self_test;
pub mod server;
pub mod settings;
pub mod storage;
pub mod workdir;
