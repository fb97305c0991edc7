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
//! Environment: `SKETRICGEN_API_KEY` is the published client's (`sketricgen` on PyPI; required
//! by `from_env()`). `SKETRICGEN_ADMIN_API_URL` is the vendor docs' (the package itself has no
//! override of the admin URL). `SKETRICGEN_BASE_URL`, `SKETRICGEN_ASSETS_BASE_URL` and
//! `SKETRICGEN_PRESIGNED_BASE_URL` are agentwire's own: the package reads none. Its
//! `SKETRICGEN_TIMEOUT`, `SKETRICGEN_UPLOAD_TIMEOUT` and `SKETRICGEN_MAX_RETRIES` are not read
//! (use the builder's `timeout()` and `max_retries()`); the legacy `SKETRICGEN_RUNTIME_API_KEY`
//! and `SKETRICGEN_ADMIN_API_KEY` are ignored, as by the package.
//!
//! Writes are never re-sent once they may have reached the server (runs cost credits, and
//! SketricGen has no idempotency header). `brand_agents().create(..)` resolves to the finished
//! job, polled every 10 s for up to 10 minutes (see [`crate::TaskHandle`]).
//!
//! ```no_run
//! # async fn demo() -> agentwire::Result<()> {
//! let client = agentwire::sketricgen::Client::builder()
//!     .api_key("sk_api_...")
//!     .build()?;
//! let teamspaces = client.teamspaces().list().send().await?;
//! let mut agents = client.agents().list().limit(50).send().await?;
//! # let _ = (teamspaces, &mut agents);
//! # Ok(())
//! # }
//! ```

include!(concat!(env!("OUT_DIR"), "/sketricgen.rs"));
