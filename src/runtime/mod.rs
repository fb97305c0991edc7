//! The runtime shared by every platform. It never names a platform: everything
//! platform-specific arrives through the generated operation table ([`operation::Platform`]).

pub(crate) mod call;
pub(crate) mod checks;
pub mod config;
pub mod credentials;
pub mod error;
pub(crate) mod follow;
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
pub(crate) mod task;
pub(crate) mod upload;
#[cfg(feature = "webhooks")]
pub mod webhook;
#[cfg(feature = "websocket")]
pub mod websocket;

/// The runtime is a one-way stack: `send` (transport and retries) knows no result type and
/// nothing above it, and generated code reaches the request path only through `call`.
#[cfg(test)]
mod stack {
    #[test]
    fn send_imports_nothing_above_it_and_names_no_result_type() {
        let send = include_str!("send.rs");
        for above in ["response", "paginate", "task", "stream", "call", "resume"] {
            assert!(
                !send.contains(&format!("super::{above}")),
                "send.rs must not use runtime::{above}"
            );
        }
        for result in ["Response<", "Page<", "Paginator", "EventStream"] {
            assert!(
                !send.contains(result),
                "send.rs names a result type: {result}"
            );
        }
    }

    #[cfg(feature = "bimpeai")]
    #[test]
    fn generated_code_names_only_the_entry_point_of_the_request_path() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/bimpeai.rs"));
        for internal in [
            "runtime::send",
            "runtime::request",
            "runtime::response",
            "runtime::paginate",
            "runtime::resume",
            "runtime::sse",
            "runtime::retry",
            "runtime::stream",
        ] {
            assert!(
                !generated.contains(internal),
                "generated code names {internal}: it must go through runtime::call"
            );
        }
        assert!(generated.contains("crate::runtime::call::"));
    }
}
