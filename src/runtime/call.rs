//! The one entry point generated code calls, and the request builder every operation shares.
//!
//! An operation's builder is a [`Call<K, P>`]: `P` holds the operation's parameters (generated
//! per operation: path and query parameters and the body, filled in by [`Params`]), and `K` is its
//! response kind ([`Json`], [`Empty`], [`Paged`], `Events` in `stream`, ...), which decides what
//! `send()` resolves to and holds the kind's own settings (a stream's reconnect budget, say).
//! Everything a builder does beyond its own parameters — `send()`, `send_with_response()`,
//! awaiting the builder, `paginate()`, the per-call options of [`RequestOptions`], `Debug` — is
//! written here once, for every operation of every platform.
//!
//! Down the stack a call goes through `send` (transport and retries); back up it comes through
//! its kind's decoding (`response`, `paginate`, `stream`), which checks the answer against what the
//! operation declares before anything is decoded: a success status other than the declared one,
//! or a content type of another kind, is never decoded as the result (a `Decode` error naming
//! both, the body kept). The one exception is an empty body where no result is declared: any
//! 2xx is `()` then.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::config::{BoxFuture, ClientCore};
use super::error::{Error, Result};
use super::operation::Operation;
use super::options::{CallOptions, RequestOptions};
use super::paginate::{Page, Paginator, decode_page};
use super::request::Request;
pub(crate) use super::request::path_segment;
use super::response::{
    Response, check_content, check_declared, decode, decode_empty, decode_text, from_parts,
    is_empty_body, wrap,
};
use super::send::send;

/// The request builder of one operation: `P` are its parameters, `K` its response kind. Get one
/// from a client's resource chain (`client.agents().retrieve("a_1")`), set what the operation
/// takes, then `send()` it — or just `.await` it.
///
/// Per-call options come from [`RequestOptions`] (`use agentwire::prelude::*;`). `Debug` shows
/// the operation and the options, never the parameters (a body may hold a password).
#[must_use = "a request does nothing until it is sent (or awaited)"]
pub struct Call<K, P> {
    pub(crate) core: Arc<ClientCore>,
    pub(crate) op: &'static Operation,
    pub(crate) options: CallOptions,
    pub(crate) params: P,
    /// The kind's own builder settings (none for most kinds).
    pub(crate) kind: K,
}

/// The parameters of one operation, as the generated code fills them into a request. Internal:
/// implemented by the generated parameter structs only.
#[doc(hidden)]
pub trait Params: Send + 'static {
    /// The path relative to the host's base URL, every parameter percent-encoded and checked.
    fn path(&self) -> Result<String>;
    /// The query and the body.
    fn fill(&self, request: &mut Request) -> Result<()>;
}

impl<K: Default, P> Call<K, P> {
    /// A builder for `op` with these parameters and no per-call options (generated code).
    pub(crate) fn new(core: Arc<ClientCore>, op: &'static Operation, params: P) -> Self {
        Call {
            core,
            op,
            options: CallOptions::default(),
            params,
            kind: K::default(),
        }
    }
}

impl<K, P: Params> Call<K, P> {
    /// The request this builder describes; an invalid parameter, body or option is an
    /// `InvalidInput` error here, before anything is sent.
    pub(crate) fn request(&self, options: CallOptions) -> Result<Request> {
        let mut request = Request::new(self.op, self.params.path()?, options);
        self.params.fill(&mut request)?;
        request.set_idempotency_member()?;
        // Every file of an upload is checked before anything is sent.
        if let super::request::Body::Form(form) = &mut request.body {
            form.check(self.core.config.max_upload_bytes)?;
        }
        Ok(request)
    }

    /// Sends, then decodes the answer as the operation's kind.
    fn run<T: Send + 'static>(
        mut self,
        finish: fn(&ClientCore, &'static Operation, super::send::Raw) -> Result<T>,
    ) -> impl Future<Output = Result<T>> + Send + 'static {
        let options = std::mem::take(&mut self.options);
        let request = self.request(options);
        let (core, op) = (self.core, self.op);
        async move {
            let request = request.map_err(|e| e.for_op(core.platform, op))?;
            let raw = send(&core, &request).await?;
            finish(&core, op, raw)
        }
    }
}

impl<K, P> RequestOptions for Call<K, P> {
    fn call_options(&mut self) -> &mut CallOptions {
        &mut self.options
    }
}

impl<K, P> fmt::Debug for Call<K, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("operation", &self.op.id)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Response kind: a JSON result of type `T` (inside the platform's envelope where it has one).
/// `send()` resolves to `T`.
pub struct Json<T>(PhantomData<fn() -> T>);

impl<T> Default for Json<T> {
    fn default() -> Self {
        Json(PhantomData)
    }
}

/// Response kind: no result. `send()` resolves to `()`: any empty body of any 2xx, or the
/// platform's envelope with `data: null`.
#[derive(Default)]
pub struct Empty;

/// Response kind: one page of a list of `T`, with the platform's page metadata `M`. `send()`
/// resolves to a [`Page`]; `paginate()` walks every page.
pub struct Paged<T, M>(PhantomData<fn() -> (T, M)>);

impl<T, M> Default for Paged<T, M> {
    fn default() -> Self {
        Paged(PhantomData)
    }
}

/// Response kind: a text answer (`text/html`, `application/javascript`, ...). `send()` resolves
/// to the `String`; `send_with_response()` adds the headers (the content type among them).
#[derive(Default)]
pub struct Text;

/// Response kind: an answer of any content type, kept as bytes (a file, an export). `send()`
/// resolves to the bytes; `send_with_response()` adds the headers (the content type among
/// them).
#[derive(Default)]
pub struct Bytes;

/// Response kind: a JSON result of type `T`, where the platform documents `404` as "there is
/// none". `send()` resolves to `Some(T)`, or `None` on that `404`.
pub struct Optional<T>(PhantomData<fn() -> T>);

impl<T> Default for Optional<T> {
    fn default() -> Self {
        Optional(PhantomData)
    }
}

fn finish_text(
    core: &ClientCore,
    op: &'static Operation,
    raw: super::send::Raw,
) -> Result<Response<String>> {
    check_content(core, op, &raw, true)?;
    decode_text(core, op, raw)
}

fn finish_bytes(
    core: &ClientCore,
    op: &'static Operation,
    raw: super::send::Raw,
) -> Result<Response<bytes::Bytes>> {
    check_content(core, op, &raw, false)?;
    let body = raw.body.clone();
    Ok(wrap(body, raw))
}

fn finish_json<T: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: super::send::Raw,
) -> Result<Response<T>> {
    check_declared(core, op, &raw)?;
    decode(core, op, raw)
}

fn finish_empty(
    core: &ClientCore,
    op: &'static Operation,
    raw: super::send::Raw,
) -> Result<Response<()>> {
    if !is_empty_body(&raw.body) {
        check_declared(core, op, &raw)?;
    }
    decode_empty(core, op, raw)
}

fn finish_page<T: DeserializeOwned, M: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: super::send::Raw,
) -> Result<Page<T, M>> {
    check_declared(core, op, &raw)?;
    decode_page(core, op, raw)
}

impl<T: DeserializeOwned + Send + 'static, P: Params> Call<Json<T>, P> {
    /// Sends the request; resolves to the result itself. Awaiting the builder does the same.
    ///
    /// Errors: `InvalidInput` before sending (a bad parameter, body or option); otherwise every
    /// kind an answer can be classified as, after the retries the call allows.
    pub fn send(self) -> impl Future<Output = Result<T>> + Send + 'static {
        let call = self.send_with_response();
        async move { call.await.map(Response::into_inner) }
    }

    /// Sends the request; resolves to the result with its HTTP status, headers and request id.
    pub fn send_with_response(self) -> impl Future<Output = Result<Response<T>>> + Send + 'static {
        self.run(finish_json::<T>)
    }
}

impl<P: Params> Call<Empty, P> {
    /// Sends the request; resolves to `()` once the platform accepted it. Awaiting the builder
    /// does the same.
    pub fn send(self) -> impl Future<Output = Result<()>> + Send + 'static {
        let call = self.send_with_response();
        async move { call.await.map(Response::into_inner) }
    }

    /// Sends the request; resolves to the HTTP status, headers and request id.
    pub fn send_with_response(self) -> impl Future<Output = Result<Response<()>>> + Send + 'static {
        self.run(finish_empty)
    }
}

impl<T, M, P> Call<Paged<T, M>, P>
where
    T: DeserializeOwned + Send + 'static,
    M: DeserializeOwned + Send + Sync + 'static,
    P: Params,
{
    /// Sends the request; resolves to one page (its items, metadata and request id). Awaiting
    /// the builder does the same.
    pub fn send(self) -> impl Future<Output = Result<Page<T, M>>> + Send + 'static {
        self.run(finish_page::<T, M>)
    }

    /// Walks every page of the list, from this request on, fetching each when asked for (see
    /// [`Paginator`]).
    pub fn paginate(self) -> Paginator<T, M> {
        let request = self.request(self.options.clone());
        Paginator::new(self.core, self.op, request)
    }
}

impl<T: DeserializeOwned + Send + 'static, P: Params> IntoFuture for Call<Json<T>, P> {
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'static, Result<T>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<P: Params> IntoFuture for Call<Empty, P> {
    type Output = Result<()>;
    type IntoFuture = BoxFuture<'static, Result<()>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<T, M, P> IntoFuture for Call<Paged<T, M>, P>
where
    T: DeserializeOwned + Send + 'static,
    M: DeserializeOwned + Send + Sync + 'static,
    P: Params,
{
    type Output = Result<Page<T, M>>;
    type IntoFuture = BoxFuture<'static, Result<Page<T, M>>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<P: Params> Call<Text, P> {
    /// Sends the request; resolves to the text. Awaiting the builder does the same.
    pub fn send(self) -> impl Future<Output = Result<String>> + Send + 'static {
        let call = self.send_with_response();
        async move { call.await.map(Response::into_inner) }
    }

    /// Sends the request; resolves to the text with its status, headers and request id.
    pub fn send_with_response(
        self,
    ) -> impl Future<Output = Result<Response<String>>> + Send + 'static {
        self.run(finish_text)
    }
}

impl<P: Params> Call<Bytes, P> {
    /// Sends the request; resolves to the bytes. Awaiting the builder does the same.
    pub fn send(self) -> impl Future<Output = Result<bytes::Bytes>> + Send + 'static {
        let call = self.send_with_response();
        async move { call.await.map(Response::into_inner) }
    }

    /// Sends the request; resolves to the bytes with their status, headers (the content type)
    /// and request id.
    pub fn send_with_response(
        self,
    ) -> impl Future<Output = Result<Response<bytes::Bytes>>> + Send + 'static {
        self.run(finish_bytes)
    }
}

impl<T: DeserializeOwned + Send + 'static, P: Params> Call<Optional<T>, P> {
    /// Sends the request; resolves to `Some(result)`, or `None` when the platform answers the
    /// documented `404`. Every other failure is an error, as for any call.
    pub fn send(self) -> impl Future<Output = Result<Option<T>>> + Send + 'static {
        let call = self.send_with_response();
        async move { call.await.map(Response::into_inner) }
    }

    /// Sends the request; resolves to the optional result with its status, headers and request
    /// id (those of the `404` when there is none).
    pub fn send_with_response(
        self,
    ) -> impl Future<Output = Result<Response<Option<T>>>> + Send + 'static {
        let call = self.run(finish_json::<T>);
        async move {
            match call.await {
                Ok(response) => Ok(response.map(Some)),
                Err(e) if e.status().map(|s| s.as_u16()) == Some(404) => Ok(from_parts(
                    None,
                    reqwest::StatusCode::NOT_FOUND,
                    e.headers().cloned().unwrap_or_default(),
                    e.request_id().map(str::to_owned),
                )),
                Err(e) => Err(e),
            }
        }
    }
}

impl<P: Params> IntoFuture for Call<Text, P> {
    type Output = Result<String>;
    type IntoFuture = BoxFuture<'static, Result<String>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<P: Params> IntoFuture for Call<Bytes, P> {
    type Output = Result<bytes::Bytes>;
    type IntoFuture = BoxFuture<'static, Result<bytes::Bytes>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<T: DeserializeOwned + Send + 'static, P: Params> IntoFuture for Call<Optional<T>, P> {
    type Output = Result<Option<T>>;
    type IntoFuture = BoxFuture<'static, Result<Option<T>>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// An invalid request body, as generated setters keep it until the call is sent.
pub(crate) fn body_error(message: &str) -> Error {
    Error::invalid_input(format!("invalid request body: {message}"))
}

/// Sends a request built by hand-written code and decodes a JSON result (the ticket of
/// BimpeAI's stream, say, or a JSON-or-stream call sent for JSON): the same path as a generated
/// call.
pub(crate) async fn call_json<T: DeserializeOwned + Send + 'static>(
    core: Arc<ClientCore>,
    op: &'static Operation,
    request: Request,
) -> Result<Response<T>> {
    let raw = send(&core, &request).await?;
    finish_json(&core, op, raw)
}

/// A handle on a task by its id, for a generated `Client::task()`.
#[allow(
    dead_code,
    reason = "called by the generated `task()` of platforms with task profiles only"
)]
pub(crate) fn task_handle<T: DeserializeOwned + Send + 'static>(
    core: Arc<ClientCore>,
    spec: &'static super::operation::TaskSpec,
    task_id: String,
) -> Result<super::task::TaskHandle<T>> {
    super::task::handle_for_id(core, spec, task_id)
}
