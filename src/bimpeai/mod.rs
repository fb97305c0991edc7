//! BimpeAI Agent Console API (`https://api.bimpe.ai/api/v1/console`).
//!
//! Generated from `openapi/bimpeai.yaml`: [`types`] (the models), [`Client`] and its resource
//! chains (`client.agents().list()`), [`PLATFORM`] (the operation table) and the message stream's
//! [`ConversationEvent`]. Written by hand here: only how the stream opens each connection (a
//! single-use ticket first), behind the generated builder
//! [`requests::ConversationsMessages::stream`].
//!
//! ```no_run
//! # async fn demo() -> agentwire::Result<()> {
//! use futures_util::TryStreamExt;
//! let client = agentwire::bimpeai::Client::new("sk_live_...")?;
//! let mut stream = client
//!     .conversations()
//!     .messages()
//!     .stream("a_1", "cv_1")
//!     .open()
//!     .await?;
//! while let Some(event) = stream.try_next().await? {
//!     if let Some(message) = event.as_message() {
//!         println!("{:?}: {:?}", message.role, message.message);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! BimpeAI takes one credential, the API key; its builder has a setter for that one only:
//!
//! ```compile_fail
//! let builder = agentwire::bimpeai::Client::builder().api_secret("not a BimpeAI credential");
//! ```

include!(concat!(env!("OUT_DIR"), "/bimpeai.rs"));

mod stream;
