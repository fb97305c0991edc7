//! The one entry point generated code calls: a [`Request`] built by the generated builder goes
//! down the stack (`send`: transport and retries) and comes back up through the decoding of its
//! kind (`response`, `paginate`). Generated code names only this module.

use std::sync::Arc;

use super::config::ClientCore;
use super::error::Result;
use super::operation::Operation;
pub(crate) use super::request::{Request, path_segment};
use super::send::send;

/// Sends a generated request and decodes its result.
pub(crate) async fn call<T: serde::de::DeserializeOwned>(
    core: Arc<ClientCore>,
    op: &'static Operation,
    req: Result<Request>,
) -> Result<super::response::Response<T>> {
    let req = req.map_err(|e| e.for_op(core.platform, op))?;
    let raw = send(&core, &req).await?;
    super::response::decode(&core, op, raw)
}

/// Sends a generated request whose result is empty.
pub(crate) async fn call_empty(
    core: Arc<ClientCore>,
    op: &'static Operation,
    req: Result<Request>,
) -> Result<super::response::Response<()>> {
    let req = req.map_err(|e| e.for_op(core.platform, op))?;
    let raw = send(&core, &req).await?;
    super::response::decode_empty(&core, op, raw)
}

/// Sends a generated list request and decodes one page.
pub(crate) async fn call_page<T, M>(
    core: Arc<ClientCore>,
    op: &'static Operation,
    req: Result<Request>,
) -> Result<super::paginate::Page<T, M>>
where
    T: serde::de::DeserializeOwned,
    M: serde::de::DeserializeOwned,
{
    let req = req.map_err(|e| e.for_op(core.platform, op))?;
    let raw = send(&core, &req).await?;
    super::paginate::decode_page(&core, op, raw)
}
