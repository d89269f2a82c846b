//! The client side of `nestbox serve`, used by `nestbox run --server`: one `POST /v1/run` over the
//! unix socket (a path) or to `http://127.0.0.1:PORT`.

use std::path::Path;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use super::job::{ApiInputFile, ApiJob};
use crate::job::Job;
use crate::result::RunResult;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach nestbox serve at {server}: {message}")]
    Unreachable { server: String, message: String },
    #[error("nestbox serve at {server} answered {status}: {body}")]
    Refused {
        server: String,
        status: u16,
        body: String,
    },
    #[error("{0}")]
    Job(String),
    #[error("reading input file {path}: {source}")]
    ReadInput {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The job as the API takes it: input files named by host path are read here and sent as
/// content (the server never reads host paths).
pub fn api_job(job: Job) -> Result<ApiJob, ClientError> {
    let input_files = job
        .input_files
        .into_iter()
        .map(|f| {
            let content_base64 = match (f.source_path, f.content_base64) {
                (Some(path), _) => {
                    let bytes = std::fs::read(&path)
                        .map_err(|source| ClientError::ReadInput { path, source })?;
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                }
                (None, Some(b64)) => b64,
                (None, None) => String::new(),
            };
            Ok(ApiInputFile {
                name: f.name,
                content_base64,
            })
        })
        .collect::<Result<Vec<_>, ClientError>>()?;
    Ok(ApiJob {
        language: job.language,
        code: job.code,
        stdin: job.stdin,
        max_runtime_seconds: job.max_runtime_seconds,
        max_ram_mb: job.max_ram_mb,
        input_files,
        keep_files_for_user: job.keep_files_for_user,
        return_files: job.return_files,
    })
}

/// Send a job to a server and return its result (the server's own RunResult, whatever its status).
pub async fn run(server: &str, token: &str, job: &ApiJob) -> Result<RunResult, ClientError> {
    let body = serde_json::to_vec(job).map_err(|e| ClientError::Job(e.to_string()))?;
    let unreachable = |message: String| ClientError::Unreachable {
        server: server.to_string(),
        message,
    };
    let (authority, io): (String, Box<dyn Io>) = if let Some(rest) = server.strip_prefix("http://")
    {
        let authority = rest.trim_end_matches('/').to_string();
        let stream = tokio::net::TcpStream::connect(&authority)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        (authority, Box::new(stream))
    } else {
        let stream = tokio::net::UnixStream::connect(Path::new(server))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        ("localhost".to_string(), Box::new(stream))
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let driver = tokio::spawn(connection);
    let request = Request::post("/v1/run")
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| ClientError::Job(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| unreachable(e.to_string()))?
        .to_bytes();
    driver.abort();
    match serde_json::from_slice::<RunResult>(&bytes) {
        Ok(result) if status == 200 || status == 400 => Ok(result),
        _ => Err(ClientError::Refused {
            server: server.to_string(),
            status,
            body: String::from_utf8_lossy(&bytes).chars().take(500).collect(),
        }),
    }
}

/// A connection hyper can drive.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}
