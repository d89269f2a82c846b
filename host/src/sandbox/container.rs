//! The seam in front of the container runtime: what supervision, the warm pool and the start-up
//! sweep ask of runsc, and nothing more. Production uses [`Runsc`](super::runsc::Runsc) (its
//! implementation is in `runsc.rs`); unit tests use the scripted fake in `fake.rs`, which speaks
//! the guest protocol without root or a sandbox.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use super::runsc::RunscError;

/// A container runtime that runs one OCI bundle per sandbox (runsc in production).
pub trait ContainerRuntime: Send + Sync {
    /// Create and start the container of `bundle` as `id` (`runsc run`), its stdio on pipes.
    fn boot(&self, bundle: &Path, id: &str) -> Result<Container, RunscError>;
    /// Wait for the runtime's process of a booted container to exit; `None` if it still runs at
    /// `timeout`. Its status can be collected once.
    fn wait(&self, pid: u32, timeout: Option<Duration>) -> Option<ExitStatus>;
    /// Kill the container's processes (`runsc kill ID KILL`).
    fn kill(&self, id: &str) -> Result<(), RunscError>;
    /// Kill the runtime's own process (SIGKILL to `runsc run`), when killing the container did
    /// not end it.
    fn kill_process(&self, pid: u32);
    /// Remove the container's state (`runsc delete --force ID`); a missing id is not an error.
    fn delete(&self, id: &str) -> Result<(), RunscError>;
    /// Ids the runtime still has state for (for the sweep).
    fn list(&self) -> Result<Vec<String>, RunscError>;
}

/// A started container: the runtime's process and the guest's stdio.
pub struct Container {
    /// The runtime's process (`runsc run`), for [`ContainerRuntime::wait`].
    pub pid: u32,
    /// The guest's stdin: the job goes here.
    pub stdin: Box<dyn Write + Send>,
    /// The guest's stdout: its event lines.
    pub stdout: Box<dyn Read + Send>,
    /// The runtime's and the guest's stderr: diagnostics quoted in errors.
    pub stderr: Box<dyn Read + Send>,
}
