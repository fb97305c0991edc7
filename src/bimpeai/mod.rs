//! BimpeAI Agent Console API (`https://api.bimpe.ai/api/v1/console`).
//!
//! Generated from `openapi/bimpeai.yaml`: [`types`] (the models), [`Client`] and its resource
//! chains (`client.agents().list()`), and [`PLATFORM`] (the operation table). Written by hand
//! here: the resumable message stream, [`requests::ConversationsMessages::stream`].
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

include!(concat!(env!("OUT_DIR"), "/bimpeai.rs"));

mod stream;

pub use stream::{ConversationEvent, MessageStream, MessageStreamBuilder};
