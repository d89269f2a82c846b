//! The job contract: what a caller asks nestbox to run. `nestbox run` builds one from its flags,
//! `nestbox serve` reads one from `POST /v1/run`. Validation turns it into a [`CheckedJob`] or an
//! INVALID_INPUT message that says what was wrong and what to do.

use std::collections::HashSet;

use serde::Serialize;

use crate::plugin::Registry;

/// The most code nestbox accepts, in bytes.
pub const MAX_CODE_BYTES: usize = 1024 * 1024;
/// The most standard input nestbox accepts, in bytes.
pub const MAX_STDIN_BYTES: usize = 16 * 1024 * 1024;
/// The longest user id accepted for `keep_files_for_user` (it is only ever hashed).
pub const MAX_USER_ID_BYTES: usize = 256;
/// The longest language name quoted back in an error.
const MAX_QUOTED_LANGUAGE: usize = 64;

/// A request to run code, as nestbox runs it. Built by `nestbox run` from its flags and by the
/// server from its own API type (`server::job::ApiJob`, which cannot name host paths); it is never
/// read from untrusted JSON itself, so it has no `Deserialize`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Job {
    /// A plugin name or alias: `python`, `python3`, `py`, `bash`, `sh`, ...
    pub language: String,
    /// The source code, UTF-8.
    pub code: String,
    /// Text given to the code on standard input (none by default: reads see end of file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    /// Wall-clock limit in seconds; may only tighten the operator's MAX_RUNTIME_SECONDS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime_seconds: Option<f64>,
    /// Memory limit in MiB; may only tighten the operator's MAX_RAM_MEGABYTES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ram_mb: Option<f64>,
    /// Files placed read-only in `/work` before the code runs (attachments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_files: Vec<InputFile>,
    /// Keep the files the code leaves in `/work` in this user's storage (see the README). An
    /// opaque id: it is only hashed into a folder name, never used as a path or a host user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_files_for_user: Option<String>,
    /// Return the contents of the files the code leaves in `/work` in the result, up to the
    /// operator's `max_returned_megabytes` (see the README's "The job").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub return_files: bool,
}

/// A file given to the code, read-only, in `/work`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFile {
    /// The file's name in `/work` (a plain name: no `/`, not `.` or `..`).
    pub name: String,
    /// A path on the host to copy from: the CLI only (it runs as the operator). The API's own
    /// type has no such field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_path: Option<std::path::PathBuf>,
    /// The content, base64-encoded (API callers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
}

/// A request's own limits, validated: each is positive when present.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestedLimits {
    pub max_runtime_seconds: Option<f64>,
    pub max_ram_mb: Option<u64>,
}

/// A job that passed validation.
#[derive(Debug, Clone)]
pub struct CheckedJob {
    /// The plugin's canonical name.
    pub plugin: String,
    pub code: String,
    pub stdin: Option<Vec<u8>>,
    pub requested: RequestedLimits,
    pub input_files: Vec<InputFile>,
    pub keep_files_for_user: Option<String>,
    pub return_files: bool,
}

/// Why a job was refused. Every message says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

impl Job {
    /// Check the job against the installed plugins.
    pub fn check(self, registry: &Registry) -> Result<CheckedJob, InvalidInput> {
        let language = self.language.trim();
        if language.is_empty() {
            return Err(InvalidInput(format!(
                "no language given; pass --lang with one of: {}",
                registry.names_and_aliases()
            )));
        }
        let plugin = registry.find(language).ok_or_else(|| {
            let quoted = if language.len() > MAX_QUOTED_LANGUAGE {
                format!("of {} bytes", language.len())
            } else {
                format!("{language:?}")
            };
            InvalidInput(format!(
                "unknown language {quoted}; installed: {}",
                registry.names_and_aliases()
            ))
        })?;
        check_code(&self.code)?;
        if let Some(stdin) = &self.stdin
            && stdin.len() > MAX_STDIN_BYTES
        {
            return Err(InvalidInput(format!(
                "standard input is {} bytes; the most accepted is {} bytes (16 MiB): \
                 write large data to a file instead",
                stdin.len(),
                MAX_STDIN_BYTES
            )));
        }
        let requested = RequestedLimits {
            max_runtime_seconds: self
                .max_runtime_seconds
                .map(|v| positive(v, "max_runtime_seconds", "seconds"))
                .transpose()?,
            max_ram_mb: self
                .max_ram_mb
                .map(|v| positive(v, "max_ram_mb", "MiB").map(|v| v.ceil() as u64))
                .transpose()?,
        };
        check_input_files(&self.input_files)?;
        if let Some(user) = &self.keep_files_for_user {
            check_user_id(user)?;
        }
        Ok(CheckedJob {
            plugin: plugin.manifest.name.clone(),
            code: self.code,
            stdin: self.stdin.map(String::into_bytes),
            requested,
            input_files: self.input_files,
            keep_files_for_user: self.keep_files_for_user,
            return_files: self.return_files,
        })
    }
}

/// Code must be non-empty (not only whitespace) and at most [`MAX_CODE_BYTES`].
pub fn check_code(code: &str) -> Result<(), InvalidInput> {
    if code.trim().is_empty() {
        return Err(InvalidInput(
            "the code is empty; pass it with --code, --file or on standard input".into(),
        ));
    }
    if code.len() > MAX_CODE_BYTES {
        return Err(InvalidInput(format!(
            "the code is {} bytes; the most accepted is {MAX_CODE_BYTES} bytes (1 MiB): \
             put large data in an input file instead",
            code.len()
        )));
    }
    Ok(())
}

/// Decode code read as bytes (a file or stdin); non-UTF-8 is refused.
pub fn code_from_bytes(bytes: Vec<u8>, what: &str) -> Result<String, InvalidInput> {
    String::from_utf8(bytes).map_err(|e| {
        InvalidInput(format!(
            "{what} is not valid UTF-8 (first bad byte at offset {}); save the code as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Parse a limit given as text (a CLI flag), refusing zero, negative and non-numbers.
pub fn parse_limit(text: &str, name: &str, unit: &str) -> Result<f64, InvalidInput> {
    let v: f64 = text.trim().parse().map_err(|_| {
        InvalidInput(format!(
            "{name} {text:?} is not a number; give a positive number of {unit}, such as 10"
        ))
    })?;
    positive(v, name, unit)
}

fn positive(v: f64, name: &str, unit: &str) -> Result<f64, InvalidInput> {
    if !v.is_finite() || v <= 0.0 {
        return Err(InvalidInput(format!(
            "{name} must be a positive number of {unit}, got {v}; omit it to use the operator's limit"
        )));
    }
    Ok(v)
}

/// Every input file checked on the host before anything starts: plain, unique names, one source
/// each, and inline content that is valid base64.
fn check_input_files(files: &[InputFile]) -> Result<(), InvalidInput> {
    let mut names = HashSet::new();
    for f in files {
        check_input_file(f)?;
        if !names.insert(f.name.as_str()) {
            return Err(InvalidInput(format!(
                "two input files are named {:?}; give each file a different name",
                f.name
            )));
        }
    }
    Ok(())
}

/// An Open WebUI user id: any text, only ever hashed into a folder name.
fn check_user_id(user: &str) -> Result<(), InvalidInput> {
    if user.is_empty() || user.len() > MAX_USER_ID_BYTES {
        return Err(InvalidInput(format!(
            "keep_files_for_user must be a user id of 1 to {MAX_USER_ID_BYTES} bytes, got {} bytes; \
             pass the Open WebUI user id, or omit it to keep no files",
            user.len()
        )));
    }
    Ok(())
}

fn check_input_file(f: &InputFile) -> Result<(), InvalidInput> {
    let n = f.name.as_str();
    if n.is_empty() || n == "." || n == ".." || n.contains('/') || n.contains('\0') || n.len() > 255
    {
        return Err(InvalidInput(format!(
            "input file name {n:?} is not a plain file name; use a name without '/' such as data.csv"
        )));
    }
    if f.source_path.is_some() == f.content_base64.is_some() {
        return Err(InvalidInput(format!(
            "input file {n:?} needs exactly one of source_path or content_base64"
        )));
    }
    if let Some(b64) = &f.content_base64 {
        // The same decoding the sandbox applies (surrounding whitespace is ignored), streamed so
        // that checking holds no second copy of the content.
        let mut decoder = base64::read::DecoderReader::new(
            b64.trim().as_bytes(),
            &base64::engine::general_purpose::STANDARD,
        );
        std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|e| {
            InvalidInput(format!(
                "input file {n:?}: content_base64 is not valid base64 ({e}); \
                     encode the file's bytes with standard base64 (RFC 4648, with padding)"
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_must_be_positive_numbers() {
        assert!(parse_limit("5", "--max-runtime-seconds", "seconds").is_ok());
        assert!(parse_limit("0.5", "--max-runtime-seconds", "seconds").is_ok());
        for bad in ["0", "-3", "abc", "", "inf", "NaN"] {
            let err = parse_limit(bad, "--max-runtime-seconds", "seconds").unwrap_err();
            assert!(err.0.contains("--max-runtime-seconds"), "{bad}: {err}");
        }
    }

    #[test]
    fn code_checks() {
        assert!(check_code("print(1)").is_ok());
        assert!(check_code("  \n\t").unwrap_err().0.contains("empty"));
        let big = "x".repeat(MAX_CODE_BYTES + 1);
        assert!(check_code(&big).unwrap_err().0.contains("1 MiB"));
        let err = code_from_bytes(vec![b'a', 0xff, b'b'], "the file x.py").unwrap_err();
        assert!(
            err.0.contains("UTF-8") && err.0.contains("offset 1"),
            "{err}"
        );
    }

    #[test]
    fn input_file_names_are_plain() {
        for bad in ["", ".", "..", "a/b", "../x"] {
            let f = InputFile {
                name: bad.into(),
                source_path: None,
                content_base64: Some(String::new()),
            };
            assert!(check_input_file(&f).is_err(), "{bad:?}");
        }
        let ok = InputFile {
            name: "data.csv".into(),
            source_path: None,
            content_base64: Some(String::new()),
        };
        assert!(check_input_file(&ok).is_ok());
    }

    fn inline(name: &str, b64: &str) -> InputFile {
        InputFile {
            name: name.into(),
            source_path: None,
            content_base64: Some(b64.into()),
        }
    }

    #[test]
    fn input_files_are_checked_on_the_host() {
        assert!(check_input_files(&[inline("a.csv", "YSxiCg=="), inline("b.csv", "")]).is_ok());
        let err =
            check_input_files(&[inline("a.csv", "YQ=="), inline("a.csv", "Yg==")]).unwrap_err();
        assert!(
            err.0.contains("two input files are named \"a.csv\""),
            "{err}"
        );
        for bad in ["not base64!", "YQ=", "YQ===", "Y"] {
            let err = check_input_files(&[inline("a.csv", bad)]).unwrap_err();
            assert!(err.0.contains("not valid base64"), "{bad:?}: {err}");
        }
        // What the sandbox accepts, the check accepts (surrounding whitespace included).
        assert!(check_input_files(&[inline("a.csv", " YQ==\n")]).is_ok());
    }

    #[test]
    fn user_ids_are_bounded() {
        assert!(check_user_id("user-1").is_ok());
        assert!(
            check_user_id("../../etc/passwd").is_ok(),
            "only ever hashed"
        );
        assert!(check_user_id("").is_err());
        let long = "u".repeat(MAX_USER_ID_BYTES + 1);
        assert!(check_user_id(&long).unwrap_err().0.contains("257 bytes"));
    }
}
