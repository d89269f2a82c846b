//! The contract between the host and `nestbox guest` inside the gVisor sandbox.
//!
//! The guest is started as `/nestbox guest --plugin NAME`. It loads the plugin's precompiled
//! module, starts the plugin as far as its manifest's `entry.prepare` allows (see
//! `runner::prepare`), prints a `ready` event, then reads **one** [`GuestJob`] (one JSON line) from
//! its stdin, runs it, and prints [`GuestEvent`]s on stdout, one JSON object per line: `output` chunks as they
//! are produced, then exactly one `result` (or `failed`). Then it exits. stderr carries only
//! diagnostics (gVisor's and the guest's own), which the host quotes in errors.
//!
//! Inside the sandbox (all read-only except `/work` and `/scratch`):
//!
//! | path | what |
//! |---|---|
//! | `/nestbox` | this binary (static) |
//! | `/plugins/<name>/` | each plugin's folder (manifest, extra preopens) |
//! | `/modules/<name>.cwasm` | each plugin's precompiled module, checked by the host |
//! | `/work` | the code's work dir (read-write, size-capped; the host lists it afterwards) |
//! | `/scratch` | `tmp/` (the code's `/tmp`), size-capped |
//! | `/tmp` | the sandbox's own tmpfs (2 MiB, in gVisor's memory): `code/`, the code file (the code's `/code`) |

use serde::{Deserialize, Serialize};

use crate::limits::Limits;
use crate::result::Outcome;
use crate::runner::output::StreamKind;

pub const GUEST_BINARY: &str = "/nestbox";
pub const GUEST_PLUGINS: &str = "/plugins";
pub const GUEST_MODULES: &str = "/modules";
pub const GUEST_WORK: &str = "/work";
pub const GUEST_SCRATCH: &str = "/scratch";
/// Where the guest writes the code file: the sandbox's own tmpfs (memory inside gVisor).
pub const GUEST_CODE: &str = "/tmp/code";

/// The longest event line the host accepts; anything longer means a broken guest.
pub const MAX_EVENT_LINE: usize = 8 * 1024 * 1024;

/// One execution, sent by the host once the guest is ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestJob {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin_b64: Option<String>,
    /// Files to place in `/work` (read-only) before the code runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_files: Vec<GuestFile>,
    pub limits: Limits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestFile {
    pub name: String,
    pub content_b64: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum GuestEvent {
    /// The plugin is loaded and started as far as its manifest allows (`entry.prepare`); the
    /// guest waits for its job. `prepare_ms`: how long the guest took to get here.
    Ready {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prepare_ms: Option<u64>,
    },
    /// Output the code wrote, base64-encoded bytes.
    Output {
        stream: StreamKind,
        data_b64: String,
    },
    /// The run is over: how it ended, as the runner classified it (its output came before, in
    /// `output` events).
    Result { outcome: Outcome },
    /// The guest could not run the job (bad job, missing module...).
    Failed { message: String },
}
