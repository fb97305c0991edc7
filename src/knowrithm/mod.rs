//! Knowrithm API (`https://app.knowrithm.org/api/v1`).
//!
//! Generated from `openapi/knowrithm.yaml`: [`types`] (the models), [`Client`] and its resource
//! chains, and [`PLATFORM`] (the operation table). Writes that Knowrithm runs as Celery tasks
//! resolve to their final result (see [`crate::TaskHandle`]); `client.task(id)` picks a task up
//! again by its id.
//!
//! Knowrithm takes an API key with its secret, or a user's access token (a JWT), or — for its
//! public routes — neither:
//!
//! ```no_run
//! # fn demo() -> agentwire::Result<()> {
//! let client = agentwire::knowrithm::Client::builder()
//!     .api_key("ak_...")
//!     .api_secret("as_...")
//!     .build()?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

include!(concat!(env!("OUT_DIR"), "/knowrithm.rs"));

mod agents;
pub use agents::NewAgent;
