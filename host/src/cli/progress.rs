//! Progress for slow steps: a spinner on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::plugin::cache::{Progress, Rebuild};

/// Reports compiling on stderr.
#[derive(Default)]
pub struct Compiling {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Compiling {
    fn compiling(&self, plugin: &str, artifact_bytes: u64, why: &Rebuild) {
        let what = format!(
            "compiling the {plugin} plugin ({:.1} MB of WebAssembly; {why})",
            artifact_bytes as f64 / 1e6
        );
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(what);
            bar.enable_steady_tick(Duration::from_millis(120));
            *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
        } else {
            eprintln!("nestbox: {what}...");
        }
    }

    fn compiled(&self, plugin: &str, took: Duration, cwasm_bytes: u64) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
        eprintln!(
            "nestbox: compiled the {plugin} plugin in {:.1} s ({:.1} MB of machine code)",
            took.as_secs_f64(),
            cwasm_bytes as f64 / 1e6
        );
    }
}
