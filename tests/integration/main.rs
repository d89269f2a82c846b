//! Integration tests: the real `nestbox` binary, the real runsc and the real plugins. They need
//! root and a prepared checkout (scripts/setup.sh); scripts/test.sh runs them.

mod bash;
mod core;
mod gvisor;
mod install;
mod network;
mod plugins;
mod python;
mod selftest;
mod server;
mod storage;
mod util;
mod walls;
