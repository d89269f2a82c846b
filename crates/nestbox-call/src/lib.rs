//! The call protocol between a nestbox plugin and its host: how one plugin runs another
//! (`python3 x.py` typed in a bash script). Both sides use this crate: the host
//! (`host/src/runner/nested.rs`) and the bash guest (`guest-runtimes/bash/src/hostcall.rs`,
//! built for wasm32-wasip1), so the format is defined once.
//!
//! The guest imports two functions from the WebAssembly module [`MODULE`] (`nestbox`):
//!
//! - [`CALL`]`(req_ptr: i32, req_len: i32) -> i32` runs a command. The request is a
//!   [`Request`] as UTF-8 JSON ([`Request::encode`]). The return value is the byte length of the
//!   pending response (>= 0), or a negative number: [`REFUSED_TOO_LARGE`] (the request is longer
//!   than [`MAX_REQUEST_BYTES`]), [`REFUSED_MALFORMED`] (it is not a request, or names no
//!   command), or any negative number from a host without this facility. The guest treats every
//!   negative answer as `command not found`.
//! - [`TAKE`]`(buf_ptr: i32, buf_len: i32) -> i32` copies the pending response into guest memory
//!   and returns how many bytes it copied. The response is a [`Response`] as UTF-8 JSON.
//!
//! On the wire (field names fixed; bytes travel as standard base64 with padding; unknown fields
//! are refused on both sides):
//!
//! ```json
//! {"argv": ["python3", "-c", "print(1)"], "stdin_b64": "", "env": {"NAME": "value"}, "cwd": "/work/sub"}
//! {"found": true, "status": 0, "stdout_b64": "MQo=", "stderr_b64": ""}
//! ```
//!
//! `found` is false when no installed plugin answers to `argv[0]`; the guest then says
//! `command not found` (status 127).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The WebAssembly import module of the two functions.
pub const MODULE: &str = "nestbox";
/// The import that runs a command.
pub const CALL: &str = "call";
/// The import that copies the pending response out.
pub const TAKE: &str = "take";
/// The largest request the host reads (argv, env and stdin together, as JSON).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;
/// `call`'s answer to a request longer than [`MAX_REQUEST_BYTES`].
pub const REFUSED_TOO_LARGE: i32 = -2;
/// `call`'s answer to bytes that are not a [`Request`] naming a command.
pub const REFUSED_MALFORMED: i32 = -3;

/// A command for the host to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The command and its arguments; `argv[0]` names the plugin (a path's last part counts).
    pub argv: Vec<String>,
    /// What is piped or redirected into the command (empty when nothing is).
    #[serde(rename = "stdin_b64", default, with = "b64")]
    pub stdin: Vec<u8>,
    /// The caller's exported variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The caller's working directory (a path inside `/work`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

/// How the command ended, with its captured output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Whether an installed plugin answers to `argv[0]`.
    pub found: bool,
    /// The command's status (the guest uses `status & 0xff`).
    #[serde(default)]
    pub status: i32,
    #[serde(rename = "stdout_b64", default, with = "b64")]
    pub stdout: Vec<u8>,
    #[serde(rename = "stderr_b64", default, with = "b64")]
    pub stderr: Vec<u8>,
}

/// Which side's message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    Request,
    Response,
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Message::Request => "request",
            Message::Response => "response",
        })
    }
}

/// Bytes that are not a valid message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, a missing or unknown field, a wrong type, invalid base64 (the field is named).
    #[error(
        "the nestbox.call {message} is not valid: {source}; fix: the plugin and the host must \
         speak the same protocol (crates/nestbox-call)"
    )]
    Invalid {
        message: Message,
        #[source]
        source: serde_json::Error,
    },
    /// A request with an empty `argv`.
    #[error("the nestbox.call request names no command (argv is empty)")]
    NoCommand,
}

impl Request {
    /// The request as it goes over the wire.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a request always serialises")
    }

    /// Read a request; it must name a command.
    pub fn decode(bytes: &[u8]) -> Result<Request, DecodeError> {
        let request: Request =
            serde_json::from_slice(bytes).map_err(|source| DecodeError::Invalid {
                message: Message::Request,
                source,
            })?;
        if request.argv.is_empty() {
            return Err(DecodeError::NoCommand);
        }
        Ok(request)
    }

    /// The plugin name the command asks for: `argv[0]`'s last path part (`/usr/bin/python3` is
    /// `python3`).
    pub fn command(&self) -> &str {
        let first = self.argv.first().map_or("", String::as_str);
        first.rsplit('/').next().unwrap_or(first)
    }
}

impl Response {
    /// No installed plugin answers to the command (status 127, as a shell says it).
    pub fn not_found() -> Response {
        Response {
            found: false,
            status: 127,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// The command was found but could not run: `status` and a message on stderr.
    pub fn failed(status: i32, message: impl Into<String>) -> Response {
        Response {
            found: true,
            status,
            stdout: Vec::new(),
            stderr: message.into().into_bytes(),
        }
    }

    /// The response as it goes over the wire.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a response always serialises")
    }

    pub fn decode(bytes: &[u8]) -> Result<Response, DecodeError> {
        serde_json::from_slice(bytes).map_err(|source| DecodeError::Invalid {
            message: Message::Response,
            source,
        })
    }
}

/// Bytes as standard base64 text in JSON.
mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format_args!("not base64: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            argv: vec!["/usr/bin/python3".into(), "-c".into(), "print(1)".into()],
            stdin: vec![0, 1, 2, 255, b'\n'],
            env: BTreeMap::from([("HOME".into(), "/tmp".into()), ("X".into(), "é".into())]),
            cwd: Some("/work/sub".into()),
        }
    }

    #[test]
    fn a_request_goes_round_trip_with_its_bytes_and_names_its_command() {
        let r = request();
        let wire = r.encode();
        let text = std::str::from_utf8(&wire).unwrap();
        assert!(text.contains(r#""stdin_b64":"AAEC/wo=""#), "{text}");
        assert!(text.contains(r#""cwd":"/work/sub""#), "{text}");
        let back = Request::decode(&wire).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.command(), "python3");
    }

    #[test]
    fn a_response_goes_round_trip_with_binary_output() {
        let r = Response {
            found: true,
            status: 3,
            stdout: (0..=255).collect(),
            stderr: b"oops\n".to_vec(),
        };
        assert_eq!(Response::decode(&r.encode()).unwrap(), r);
        let nf = Response::decode(&Response::not_found().encode()).unwrap();
        assert!(!nf.found);
        assert_eq!(nf.status, 127);
        let f = Response::failed(126, "x: too deep\n");
        assert_eq!(f.stderr, b"x: too deep\n");
    }

    #[test]
    fn the_documented_wire_form_reads_and_optional_fields_may_be_left_out() {
        let r = Request::decode(br#"{"argv":["py"]}"#).unwrap();
        assert_eq!(r.argv, ["py"]);
        assert!(r.stdin.is_empty() && r.env.is_empty() && r.cwd.is_none());
        let r =
            Response::decode(br#"{"found":true,"status":0,"stdout_b64":"MQo=","stderr_b64":""}"#)
                .unwrap();
        assert_eq!(r.stdout, b"1\n");
        assert_eq!(Response::decode(br#"{"found":false}"#).unwrap().status, 0);
    }

    #[test]
    fn bad_input_is_refused_and_named() {
        let err = |bytes: &[u8]| Request::decode(bytes).unwrap_err().to_string();
        let e = err(b"not json");
        assert!(e.contains("nestbox.call request is not valid"), "{e}");
        let e = err(br#"{"argv":["py"],"stdin_b64":"%%%"}"#);
        assert!(e.contains("not base64"), "{e}");
        let e = err(br#"{"argv":["py"],"shell":true}"#);
        assert!(e.contains("unknown field `shell`"), "{e}");
        let e = err(br#"{"argv":[]}"#);
        assert!(e.contains("names no command"), "{e}");
        assert!(matches!(
            Request::decode(br#"{"argv":[]}"#),
            Err(DecodeError::NoCommand)
        ));
        let e = Response::decode(br#"{"found":"yes"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nestbox.call response is not valid"), "{e}");
        let truncated = Response::decode(b"{").unwrap_err();
        assert!(
            std::error::Error::source(&truncated).is_some(),
            "the JSON error is kept as the source"
        );
    }
}
