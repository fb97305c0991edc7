//! SketricGen: the runtime (`https://chat-v2.sketricgen.ai`), the asset upload and the admin
//! API (`https://v9xof9ohlg.execute-api.us-east-1.amazonaws.com/dev/admin/v1`).
//!
//! Generated from `openapi/sketricgen.yaml`: [`types`] (the models), [`Client`] and its resource
//! chains, and [`PLATFORM`] (the operation table).
//!
//! SketricGen spreads over three hosts (and the S3 upload), each with its own auth header, all
//! filled by the one API key:
//!
//! | host | base URL | header | overridden by |
//! |---|---|---|---|
//! | `runtime` | `https://chat-v2.sketricgen.ai` (`/api/v1/run-workflow`) | `API-KEY` | `SKETRICGEN_BASE_URL` |
//! | `assets` | `https://v9xof9ohlg.execute-api.us-east-1.amazonaws.com/dev` (`/publicAssetsUploadInit`, `/publicAssetsUploadComplete`) | `X-API-KEY` | `SKETRICGEN_ASSETS_BASE_URL` |
//! | `admin` | `https://v9xof9ohlg.execute-api.us-east-1.amazonaws.com/dev/admin/v1` | `Authorization: Bearer` | `SKETRICGEN_ADMIN_API_URL` |
//! | `presigned` | the init answer's `upload.url` (S3) | none | `SKETRICGEN_PRESIGNED_BASE_URL` |
//!
//! Environment (`Client::from_env()`): `SKETRICGEN_API_KEY` (required), `SKETRICGEN_TIMEOUT`
//! (the per-attempt timeout, seconds), `SKETRICGEN_UPLOAD_TIMEOUT` (the per-attempt timeout of
//! uploads) and `SKETRICGEN_MAX_RETRIES` are the published client's (`sketricgen` on PyPI);
//! their defaults — 300 s, 300 s and 3 — apply however the client is built (the builder's
//! `timeout()`, `upload_timeout()` and `max_retries()` override them). `SKETRICGEN_ADMIN_API_URL`
//! is the vendor docs' (the package has no override of the admin URL).
//! `SKETRICGEN_BASE_URL`, `SKETRICGEN_ASSETS_BASE_URL` and `SKETRICGEN_PRESIGNED_BASE_URL` are
//! agentwire's own. The legacy `SKETRICGEN_RUNTIME_API_KEY` and `SKETRICGEN_ADMIN_API_KEY` are
//! ignored, as by the package. A variable that does not parse is an error naming it.
//!
//! Writes are never re-sent once they may have reached the server (runs cost credits, and
//! SketricGen has no idempotency header). `brand_agents().create(..)` resolves to the finished
//! job, polled every 10 s for up to 10 minutes (see [`crate::TaskHandle`]).
//!
//! A run answers JSON, or — `.stream()` — its AG-UI events; files go up first
//! (`assets().upload_file`: init, the presigned POST, complete) and their ids in `assets`:
//!
//! ```no_run
//! # async fn demo() -> agentwire::Result<()> {
//! use agentwire::sketricgen::{Client, types};
//! use agentwire::Upload;
//!
//! let client = Client::from_env()?;
//! let file = client.assets().upload_file("agent_1", Upload::path("report.pdf")).await?;
//! let request = types::RunWorkflowRequest::builder()
//!     .agent_id("agent_1")
//!     .user_input(Some("Summarise the report".to_owned()))
//!     .assets(Some(vec![file.file_id]));
//! let answer = client.workflows().run(request).stream().await?.answer().await?;
//! println!("{}", answer.text);
//!
//! // The admin API, one page at a time.
//! let page = client.agents().list().limit(50).send().await?;
//! # let _ = page;
//! # Ok(())
//! # }
//! ```

include!(concat!(env!("OUT_DIR"), "/sketricgen.rs"));

mod run;
mod upload;
pub use run::RunAnswer;
pub use upload::{ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES};
