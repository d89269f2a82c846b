//! The job as the API takes it (`POST /v1/run`). It has its own type, separate from the internal
//! [`Job`], so that nothing a client sends can name a host path or a host user: input files come
//! only as content, unknown fields (such as the CLI's `source_path`) are refused before anything
//! is read or looked at, and `keep_files_for_user` is an opaque id that storage only hashes.

use serde::{Deserialize, Serialize};

use crate::job::{InputFile, Job};

/// `POST /v1/run`'s body; see the README's "The job".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiJob {
    pub language: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ram_mb: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_files: Vec<ApiInputFile>,
    /// An Open WebUI user id, hashed into a storage folder name; never a path or a host user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_files_for_user: Option<String>,
    /// Return each listed file's content in the result (`content_base64`), up to the server's
    /// `max_returned_megabytes`; see the README's "The job".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub return_files: bool,
}

/// An input file as the API takes it: a name and its content, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiInputFile {
    pub name: String,
    pub content_base64: String,
}

impl From<ApiJob> for Job {
    fn from(j: ApiJob) -> Job {
        Job {
            language: j.language,
            code: j.code,
            stdin: j.stdin,
            max_runtime_seconds: j.max_runtime_seconds,
            max_ram_mb: j.max_ram_mb,
            input_files: j
                .input_files
                .into_iter()
                .map(|f| InputFile {
                    name: f.name,
                    source_path: None,
                    content_base64: Some(f.content_base64),
                })
                .collect(),
            keep_files_for_user: j.keep_files_for_user,
            return_files: j.return_files,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ApiJob, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn host_paths_are_refused_by_the_type() {
        let err = parse(
            r#"{"language":"python","code":"1","input_files":[{"name":"x","source_path":"/etc/shadow"}]}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `source_path`"),
            "{err}"
        );
        // The same words whether or not the path exists: nothing was looked at.
        let other = parse(
            r#"{"language":"python","code":"1","input_files":[{"name":"x","source_path":"/nonexistent/x"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), other.to_string());
        assert!(parse(r#"{"language":"python","code":"1","user":"root"}"#).is_err());
    }

    #[test]
    fn converts_to_an_inline_job() {
        let api = parse(
            r#"{"language":"python","code":"1","input_files":[{"name":"a.csv","content_base64":"YQ=="}],"keep_files_for_user":"u1"}"#,
        )
        .unwrap();
        let job = Job::from(api);
        assert_eq!(job.input_files[0].source_path, None);
        assert_eq!(job.input_files[0].content_base64.as_deref(), Some("YQ=="));
        assert_eq!(job.keep_files_for_user.as_deref(), Some("u1"));
    }

    #[test]
    fn return_files_is_off_unless_asked_and_reaches_the_job() {
        let plain = parse(r#"{"language":"python","code":"1"}"#).unwrap();
        assert!(!plain.return_files);
        assert!(!Job::from(plain.clone()).return_files);
        // Off is not even written: a client of an older server sends the same body as before.
        assert!(
            !serde_json::to_string(&plain)
                .unwrap()
                .contains("return_files")
        );
        let asked = parse(r#"{"language":"python","code":"1","return_files":true}"#).unwrap();
        assert!(Job::from(asked).return_files);
        assert!(parse(r#"{"language":"python","code":"1","return_files":"yes"}"#).is_err());
    }

    #[test]
    fn a_user_id_never_becomes_a_path() {
        for id in ["../../etc", "/root", "root", "a/b\0c"] {
            let key = crate::storage::Storage::user_key(id);
            assert_eq!(key.len(), 32, "{id:?}: {key}");
            assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{id:?}: {key}");
        }
    }
}
