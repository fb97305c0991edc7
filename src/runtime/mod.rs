//! The runtime shared by every platform. It never names a platform: everything
//! platform-specific arrives through the generated operation table ([`operation::Platform`]).

pub(crate) mod call;
pub mod config;
pub mod credentials;
pub mod error;
pub mod loose;
pub mod nullable;
pub(crate) mod open;
pub mod operation;
pub mod options;
pub mod paginate;
pub(crate) mod request;
pub mod response;
pub(crate) mod resume;
pub(crate) mod retry;
pub(crate) mod send;
pub mod sse;
pub(crate) mod stream;
