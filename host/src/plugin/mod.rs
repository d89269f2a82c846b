//! Plugins: one folder per language with a manifest, its WebAssembly runtime, and the
//! precompiled-module cache.

pub mod artifact;
pub mod cache;
pub mod manifest;
pub mod preopen;
pub mod registry;

pub use manifest::Manifest;
pub use registry::{Plugin, Registry, RegistryError};
