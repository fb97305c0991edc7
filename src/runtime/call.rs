//! The one entry point generated code calls: a [`Request`] built by the generated builder goes
//! down the stack (`send`: transport and retries) and comes back up through the decoding of its
//! response kind (`response`, `paginate`). Generated code names only this module:
//! `call::<Json<T>>`, `call::<Empty>`, `call::<Paged<T, M>>`, the [`Request`] and
//! [`path_segment`].
//!
//! Each kind checks the answer against what the operation declares before anything is decoded:
//! a success status other than the declared one, or a content type of another kind, is never
//! decoded as the result (a `Decode` error naming both, the body kept). The one exception is an
//! empty body where no result is declared: any 2xx is `()` then.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::config::ClientCore;
use super::error::Result;
use super::operation::Operation;
use super::paginate::{Page, decode_page};
pub(crate) use super::request::{Request, path_segment};
use super::response::{Response, check_declared, decode, decode_empty, is_empty_body};
use super::send::{Raw, send};

/// How the answer of an operation becomes its typed result.
pub(crate) trait Kind: 'static {
    /// What `send()` resolves to.
    type Output: Send + 'static;
    /// Checks and decodes a buffered 2xx answer.
    fn finish(core: &ClientCore, op: &'static Operation, raw: Raw) -> Result<Self::Output>;
}

/// A JSON result of type `T` (inside the platform's envelope where there is one).
pub(crate) struct Json<T>(PhantomData<fn() -> T>);

impl<T: DeserializeOwned + Send + 'static> Kind for Json<T> {
    type Output = Response<T>;
    fn finish(core: &ClientCore, op: &'static Operation, raw: Raw) -> Result<Response<T>> {
        check_declared(core, op, &raw)?;
        decode(core, op, raw)
    }
}

/// No result: any empty body of any 2xx, or the envelope with `data: null`.
pub(crate) struct Empty;

impl Kind for Empty {
    type Output = Response<()>;
    fn finish(core: &ClientCore, op: &'static Operation, raw: Raw) -> Result<Response<()>> {
        if !is_empty_body(&raw.body) {
            check_declared(core, op, &raw)?;
        }
        decode_empty(core, op, raw)
    }
}

/// One page of a list of `T`, with the platform's page metadata `M`.
pub(crate) struct Paged<T, M>(PhantomData<fn() -> (T, M)>);

impl<T, M> Kind for Paged<T, M>
where
    T: DeserializeOwned + Send + 'static,
    M: DeserializeOwned + Send + 'static,
{
    type Output = Page<T, M>;
    fn finish(core: &ClientCore, op: &'static Operation, raw: Raw) -> Result<Page<T, M>> {
        check_declared(core, op, &raw)?;
        decode_page(core, op, raw)
    }
}

/// Sends a generated request and turns its answer into the kind's result.
pub(crate) async fn call<K: Kind>(
    core: Arc<ClientCore>,
    op: &'static Operation,
    req: Result<Request>,
) -> Result<K::Output> {
    let req = req.map_err(|e| e.for_op(core.platform, op))?;
    let raw = send(&core, &req).await?;
    K::finish(&core, op, raw)
}
