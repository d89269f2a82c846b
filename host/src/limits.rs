//! One limits struct for an execution, resolved in one place from the operator's settings (the
//! maxima), the plugin's needs and the request (which may only tighten). Both walls read it: the
//! inner runner applies it to the Wasmtime store, the outer sandbox derives its cgroup limits from it.
//!
//! A request above the operator's maximum is **clamped** to the maximum and the result carries a
//! notice saying so; it is never raised.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::job::{InvalidInput, RequestedLimits};
use crate::plugin::Manifest;
use crate::result::AppliedLimits;
use crate::settings::Settings;

const MIB: u64 = 1024 * 1024;

/// The limits one execution runs under.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock limit, in milliseconds.
    pub max_runtime_ms: u64,
    /// The code's memory (all WebAssembly linear memories and tables together), in MiB.
    pub max_ram_mb: u64,
    /// Cap on each of stdout and stderr, in bytes.
    pub max_output_bytes: u64,
    /// CPU budget in fuel units.
    pub fuel: u64,
}

impl Limits {
    pub fn max_runtime(&self) -> Duration {
        Duration::from_millis(self.max_runtime_ms)
    }

    pub fn max_memory_bytes(&self) -> u64 {
        self.max_ram_mb * MIB
    }

    pub fn applied(&self, enforced: bool) -> AppliedLimits {
        AppliedLimits {
            max_runtime_seconds: self.max_runtime_ms as f64 / 1000.0,
            max_ram_mb: self.max_ram_mb,
            max_output_bytes: self.max_output_bytes,
            fuel: self.fuel,
            enforced,
        }
    }
}

/// Resolve the limits for a request. Returns the limits and the notices for the result.
pub fn resolve(
    settings: &Settings,
    plugin: &Manifest,
    requested: RequestedLimits,
) -> Result<(Limits, Vec<String>), InvalidInput> {
    let mut notices = Vec::new();

    let max_seconds = settings.max_runtime_seconds as f64;
    let seconds = match requested.max_runtime_seconds {
        Some(r) if r > max_seconds => {
            notices.push(format!(
                "requested max_runtime_seconds {r} is above the operator's limit {max_seconds}; \
                 clamped to {max_seconds}"
            ));
            max_seconds
        }
        Some(r) => r,
        None => max_seconds,
    };
    let max_runtime_ms = ((seconds * 1000.0).round() as u64).max(1);

    let max_ram = settings.max_ram_megabytes;
    let ram = match requested.max_ram_mb {
        Some(r) if r > max_ram => {
            notices.push(format!(
                "requested max_ram_mb {r} is above the operator's limit {max_ram}; clamped to {max_ram}"
            ));
            max_ram
        }
        Some(r) => r,
        None => max_ram,
    };
    let needed = plugin.limits.min_ram_mb;
    if ram < needed {
        let whose = if requested.max_ram_mb.is_some_and(|r| r <= max_ram) {
            "the requested max_ram_mb"
        } else {
            "the operator's MAX_RAM_MEGABYTES"
        };
        return Err(InvalidInput(format!(
            "{whose} is {ram} MiB but the {} plugin needs at least {needed} MiB to start; \
             allow {needed} MiB or more",
            plugin.name
        )));
    }

    // Fuel is the CPU backstop behind the wall clock: the budget a fully busy CPU would use in
    // the wall-clock limit, from the plugin's calibration.
    let fuel = (plugin.calibration.fuel_per_cpu_second as f64 * seconds).ceil() as u64;

    Ok((
        Limits {
            max_runtime_ms,
            max_ram_mb: ram,
            max_output_bytes: settings.max_output_bytes,
            fuel: fuel.max(1),
        },
        notices,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::manifest::tests::sample_manifest;

    #[test]
    fn request_tightens_but_never_raises() {
        let s = Settings::default();
        let m = sample_manifest();
        let (l, notes) = resolve(
            &s,
            &m,
            RequestedLimits {
                max_runtime_seconds: Some(5.0),
                max_ram_mb: Some(64),
            },
        )
        .unwrap();
        assert_eq!(l.max_runtime_ms, 5000);
        assert_eq!(l.max_ram_mb, 64);
        assert!(notes.is_empty());

        let (l, notes) = resolve(
            &s,
            &m,
            RequestedLimits {
                max_runtime_seconds: Some(500.0),
                max_ram_mb: Some(4096),
            },
        )
        .unwrap();
        assert_eq!(l.max_runtime_ms, 30_000);
        assert_eq!(l.max_ram_mb, 256);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("clamped"));
    }

    #[test]
    fn fuel_follows_calibration() {
        let s = Settings::default();
        let m = sample_manifest();
        let (l, _) = resolve(
            &s,
            &m,
            RequestedLimits {
                max_runtime_seconds: Some(2.0),
                max_ram_mb: None,
            },
        )
        .unwrap();
        assert_eq!(l.fuel, 2 * m.calibration.fuel_per_cpu_second);
    }

    #[test]
    fn too_little_memory_for_the_plugin_is_refused() {
        let s = Settings::default();
        let m = sample_manifest();
        let err = resolve(
            &s,
            &m,
            RequestedLimits {
                max_runtime_seconds: None,
                max_ram_mb: Some(1),
            },
        )
        .unwrap_err();
        assert!(err.0.contains("needs at least"), "{err}");
    }
}
