//! INTERNAL: support for this crate's own tests (feature `testkit`, which the test command
//! `cargo test --all-features` enables). Not part of the API, never stable.
//!
//! Two things live here:
//!
//! - **Spec fragments.** build.rs generates every `tests/specs/<name>.yaml` exactly as it
//!   generates a platform's spec, into the module `agentwire::testkit::<name>`: its `types`,
//!   operation table (`PLATFORM`), `Client` and request builders. A fragment is a small spec
//!   that exercises one shape of the generator (recursive schemas, several hosts, another stream
//!   shape) without adding it to a real platform. Fragments are in the build's registry like
//!   platforms: the mock validates their requests, and a contract built for platform
//!   `testkit::<name>` round-trips through the fragment's generated types.
//! - **Fixture-driven calls.** For every platform of the build, build.rs generates a function
//!   that calls the operation a fixture names through the typed public API with the fixture's
//!   arguments, as a user would write it, and sends it ([`FixtureClient::call`]). The tests run
//!   every success fixture of every platform through it against the mock
//!   (`tests/operations.rs`), with no hand-written arm per operation.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::mock::Fixture;
use crate::registry::{self, Entry};
use crate::runtime::call::{Bytes, Call, Empty, Json, Optional, Paged, Params, Text};
use crate::runtime::config::{BoxFuture, ClientBuilder, ClientCore};
use crate::runtime::operation::{Operation, Platform, match_template};

include!(concat!(env!("OUT_DIR"), "/testkit.rs"));

/// What a fixture-driven call got, re-serialized as JSON.
#[derive(Debug)]
pub enum Called {
    /// A result, from `send_with_response()`: its status, request id, and the result itself
    /// (`null` for an operation without one).
    Single {
        /// The HTTP status.
        status: u16,
        /// The request id the platform answered with.
        request_id: Option<String>,
        /// The result, serialized again.
        data: Value,
    },
    /// A page, from `send()`.
    Page {
        /// The HTTP status.
        status: u16,
        /// The request id the platform answered with.
        request_id: Option<String>,
        /// The items, serialized again.
        items: Value,
        /// The page metadata, serialized again (`null` when the answer had none).
        meta: Value,
    },
    /// The call failed.
    Failed(crate::Error),
}

/// A client of any platform of this build, for fixture-driven calls.
pub struct FixtureClient {
    entry: &'static Entry,
    core: Arc<ClientCore>,
}

impl fmt::Debug for FixtureClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.core, f)
    }
}

impl FixtureClient {
    /// A client of `platform` with the settings and credentials of `builder` (whatever its
    /// client type parameter: `ClientBuilder::<()>::new()` will do).
    pub fn new<C>(platform: &'static Platform, builder: ClientBuilder<C>) -> Result<Self, String> {
        let entry = registry::entry(platform)
            .ok_or_else(|| format!("{} is not a platform of this build", platform.name))?;
        let core = builder.build_core(platform).map_err(|e| e.to_string())?;
        Ok(FixtureClient { entry, core })
    }

    /// The platform's operation table.
    pub fn platform(&self) -> &'static Platform {
        self.entry.platform
    }

    /// Calls the operation `fixture` names through the platform's typed API: its resource chain
    /// with the path parameters of the fixture's path (matched against the template), its
    /// required query parameters (parsed into their declared types) and its body (deserialized
    /// into the operation's body type); a setter for each optional query parameter the fixture
    /// names. Sends it with `send_with_response()`, or `send()` for a page.
    ///
    /// `Ok(None)` for an operation the generator writes no builder for (hand-written ones,
    /// streams); an error when the fixture does not fit the operation.
    pub async fn call(&self, fixture: &Fixture) -> Result<Option<Called>, String> {
        match (self.entry.call)(self.core.clone(), fixture)? {
            Some(sent) => sent.await.map(Some),
            None => Ok(None),
        }
    }
}

/// The platforms of this build (not the fragments), in name order.
pub fn platforms() -> Vec<&'static Platform> {
    registry::platforms().map(|e| e.platform).collect()
}

/// What a generated fixture-driven call returns: the call under way, `None` for an operation
/// without a generated builder, or why the fixture does not fit the operation.
pub(crate) type Dispatch = Result<Option<BoxFuture<'static, Result<Called, String>>>, String>;

/// A platform's generated fixture-driven call (`fixture_call` of its generated code).
pub(crate) type FixtureCall = fn(Arc<ClientCore>, &Fixture) -> Dispatch;

/// A fixture's arguments, read the way a caller would write them (used by the generated calls).
pub(crate) struct Args<'f> {
    fixture: &'f Fixture,
    op: &'static Operation,
    path: Vec<(String, String)>,
}

impl<'f> Args<'f> {
    /// Matches the fixture's path against its operation's template.
    pub(crate) fn new(platform: &'static Platform, fixture: &'f Fixture) -> Result<Self, String> {
        let op = platform.operation(&fixture.operation).ok_or_else(|| {
            format!(
                "operation `{}` is not in the {} spec",
                fixture.operation, platform.display_name
            )
        })?;
        let (_, values) = match_template(op.path, &fixture.request.path).ok_or_else(|| {
            format!(
                "the fixture's path {} does not fit the template {} of {}",
                fixture.request.path, op.path, op.id
            )
        })?;
        let mut path = Vec::with_capacity(values.len());
        for (name, raw) in values {
            // The builder encodes what it is given: hand it the value, not its wire form.
            let value = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map_err(|e| format!("path parameter `{name}`={raw}: {e}"))?;
            path.push((name.to_owned(), value.into_owned()));
        }
        Ok(Args { fixture, op, path })
    }

    /// A path parameter's value.
    pub(crate) fn path(&self, name: &str) -> Result<String, String> {
        self.path
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("the path has no parameter `{name}`"))
    }

    /// A required query parameter, parsed into its declared type.
    #[allow(
        dead_code,
        reason = "generated only for specs with required query parameters"
    )]
    pub(crate) fn query<T: FromStr<Err: fmt::Display>>(&self, name: &str) -> Result<T, String> {
        self.value(name)?.ok_or_else(|| {
            format!(
                "the fixture has no query parameter `{name}`, which {} requires",
                self.op.id
            )
        })
    }

    /// Calls `set` on the builder with an optional query parameter, parsed into its declared
    /// type, when the fixture names it.
    pub(crate) fn opt<B, T: FromStr<Err: fmt::Display>>(
        &self,
        builder: B,
        name: &str,
        set: impl FnOnce(B, T) -> B,
    ) -> Result<B, String> {
        Ok(match self.value(name)? {
            Some(value) => set(builder, value),
            None => builder,
        })
    }

    /// Calls `set` on the builder with an array query parameter (comma-separated in a fixture),
    /// each value parsed, when the fixture names it.
    #[allow(
        dead_code,
        reason = "generated only for specs with array query parameters"
    )]
    pub(crate) fn list<B, T: FromStr<Err: fmt::Display>>(
        &self,
        builder: B,
        name: &str,
        set: impl FnOnce(B, Vec<T>) -> B,
    ) -> Result<B, String> {
        let Some(text) = self.fixture.request.query.get(name) else {
            return Ok(builder);
        };
        let values = text
            .split(',')
            .map(|item| {
                item.parse()
                    .map_err(|e| format!("query `{name}`={text}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(set(builder, values))
    }

    /// A query parameter's value, if the fixture names it, parsed into its declared type.
    fn value<T: FromStr<Err: fmt::Display>>(&self, name: &str) -> Result<Option<T>, String> {
        self.fixture
            .request
            .query
            .get(name)
            .map(|v| v.parse().map_err(|e| format!("query `{name}`={v}: {e}")))
            .transpose()
    }

    /// The fixture's body as the operation's (required) body type.
    pub(crate) fn body<T: DeserializeOwned>(&self) -> Result<T, String> {
        self.body_value()?.ok_or_else(|| {
            format!(
                "the fixture has no request body, which {} requires",
                self.op.id
            )
        })
    }

    /// Calls `set` on the builder with the fixture's body as the operation's (optional) body
    /// type, when the fixture has one.
    #[allow(
        dead_code,
        reason = "generated only for specs with optional request bodies"
    )]
    pub(crate) fn opt_body<B, T: DeserializeOwned>(
        &self,
        builder: B,
        set: impl FnOnce(B, T) -> B,
    ) -> Result<B, String> {
        Ok(match self.body_value()? {
            Some(body) => set(builder, body),
            None => builder,
        })
    }

    /// A form field of the fixture's `request.form`, as the setter's type; `None` when absent.
    pub(crate) fn form_value<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, String> {
        match self.fixture.request.form.as_ref().and_then(|f| f.get(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| format!("the fixture's form field `{name}` does not decode: {e}")),
        }
    }

    /// The fixture's form fields not in `named` (an open form's extra text fields), in order.
    pub(crate) fn form_extras(&self, named: &[&str]) -> Vec<(String, String)> {
        let Some(Value::Object(form)) = self.fixture.request.form.as_ref() else {
            return Vec::new();
        };
        form.iter()
            .filter(|(k, _)| !named.contains(&k.as_str()))
            .map(|(k, v)| match v {
                Value::String(s) => (k.clone(), s.clone()),
                other => (k.clone(), other.to_string()),
            })
            .collect()
    }

    /// The absolute URL an absolute-URL operation (a presigned upload) is sent to: the
    /// fixture's path under the client's base URL of the operation's host.
    pub(crate) fn absolute_url(
        &self,
        core: &ClientCore,
        op: &'static Operation,
    ) -> Result<String, String> {
        let base = core
            .config
            .hosts
            .get(op.host)
            .ok_or_else(|| format!("{} names no known host", op.id))?;
        Ok(format!(
            "{}{}",
            base.as_str().trim_end_matches('/'),
            self.fixture.request.path
        ))
    }

    /// A required form field of the fixture.
    pub(crate) fn form_required<T: DeserializeOwned>(&self, name: &str) -> Result<T, String> {
        self.form_value(name)?
            .ok_or_else(|| format!("the fixture's form has no `{name}`"))
    }

    /// The files a form field names (by file name): each sent as a few bytes under that name.
    pub(crate) fn form_files(&self, name: &str) -> Result<Vec<crate::Upload>, String> {
        let names: Vec<String> = match self.fixture.request.form.as_ref().and_then(|f| f.get(name))
        {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("the fixture's form field `{name}` lists file names"))?,
            Some(Value::String(one)) => vec![one.clone()],
            Some(_) => return Err(format!("the fixture's form field `{name}` is a file name")),
        };
        Ok(names
            .into_iter()
            .map(|n| crate::Upload::bytes(n, &b"fixture file"[..]))
            .collect())
    }

    /// Applies `set` with a form field of the fixture, if it names one.
    pub(crate) fn opt_form<B, T: DeserializeOwned>(
        &self,
        builder: B,
        name: &str,
        set: impl FnOnce(B, T) -> B,
    ) -> Result<B, String> {
        Ok(match self.form_value(name)? {
            Some(v) => set(builder, v),
            None => builder,
        })
    }

    /// The fixture's body, if it has one, as the operation's body type.
    fn body_value<T: DeserializeOwned>(&self) -> Result<Option<T>, String> {
        match &self.fixture.request.body {
            None | Some(Value::Null) => Ok(None),
            Some(body) => serde_json::from_value(body.clone()).map(Some).map_err(|e| {
                format!(
                    "the fixture's body does not decode as {}: {e}",
                    std::any::type_name::<T>()
                )
            }),
        }
    }
}

/// Sends a request builder as a user would and keeps what the caller got (used by the
/// generated calls): `send_with_response()` for a result, `send()` for a page.
pub(crate) trait Finish {
    fn finish(self) -> BoxFuture<'static, Result<Called, String>>;
}

/// Sends `call` (the last step of every generated arm).
pub(crate) fn finish(call: impl Finish) -> Dispatch {
    Ok(Some(call.finish()))
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| format!("the result does not serialize: {e}"))
}

/// What the caller of a single-result call got: the result as JSON (by `data`), or the error.
fn single<T: Send + 'static>(
    sent: impl std::future::Future<Output = crate::Result<crate::Response<T>>> + Send + 'static,
    data: fn(crate::Response<T>) -> Result<Value, String>,
) -> BoxFuture<'static, Result<Called, String>> {
    Box::pin(async move {
        Ok(match sent.await {
            Ok(r) => Called::Single {
                status: r.status().as_u16(),
                request_id: r.request_id().map(str::to_owned),
                data: data(r)?,
            },
            Err(e) => Called::Failed(e),
        })
    })
}

impl<T, P> Finish for Call<Json<T>, P>
where
    T: DeserializeOwned + Serialize + Send + 'static,
    P: Params,
{
    fn finish(self) -> BoxFuture<'static, Result<Called, String>> {
        single(self.send_with_response(), |r| to_json(r.value()))
    }
}

impl<P: Params> Finish for Call<Text, P> {
    fn finish(self) -> BoxFuture<'static, Result<Called, String>> {
        single(self.send_with_response(), |r| {
            Ok(Value::String(r.into_inner()))
        })
    }
}

impl<P: Params> Finish for Call<Bytes, P> {
    fn finish(self) -> BoxFuture<'static, Result<Called, String>> {
        single(self.send_with_response(), |r| {
            Ok(Value::String(
                String::from_utf8_lossy(r.value()).into_owned(),
            ))
        })
    }
}

impl<T, P> Finish for Call<Optional<T>, P>
where
    T: DeserializeOwned + Serialize + Send + 'static,
    P: Params,
{
    fn finish(self) -> BoxFuture<'static, Result<Called, String>> {
        single(self.send_with_response(), |r| to_json(r.value()))
    }
}

/// A JSON-or-stream operation is sent for its JSON result (its streams are tested on their own).
impl<T, E, P> Finish for Call<crate::kind::JsonOrEvents<T, E>, P>
where
    T: DeserializeOwned + Serialize + Send + 'static,
    E: crate::__private::EventEnum,
    P: crate::__private::StreamParams,
{
    fn finish(self) -> BoxFuture<'static, Result<Called, String>> {
        single(self.send_with_response(), |r| to_json(r.value()))
    }
}

/// A task operation stops at its first answer (`accepted()`): the result when it came at once,
/// else the acknowledgement — what a fixture records; resolving a task is a sequence of
/// exchanges, tested on its own.
impl<T, P> Finish for Call<crate::kind::Task<T>, P>
where
    T: DeserializeOwned + Serialize + Send + 'static,
    P: Params,
{
    fn finish(self) -> BoxFuture<'static, Result<Called, String>> {
        let sent = self.accepted();
        Box::pin(async move {
            let (status, request_id, data) = match sent.await {
                Ok(crate::Accepted::Done(r)) => (
                    r.status().as_u16(),
                    r.request_id().map(str::to_owned),
                    to_json(r.value())?,
                ),
                Ok(crate::Accepted::Pending(handle)) => {
                    let Some(ack) = handle.acknowledgement() else {
                        return Err("a pending task without its acknowledgement".to_owned());
                    };
                    (
                        ack.status().as_u16(),
                        ack.request_id().map(str::to_owned),
                        ack.value().clone(),
                    )
                }
                Err(e) => return Ok(Called::Failed(e)),
            };
            Ok(Called::Single {
                status,
                request_id,
                data,
            })
        })
    }
}

impl<P: Params> Finish for Call<Empty, P> {
    fn finish(self) -> BoxFuture<'static, Result<Called, String>> {
        single(self.send_with_response(), |_| Ok(Value::Null))
    }
}

impl<T, M, P> Finish for Call<Paged<T, M>, P>
where
    T: DeserializeOwned + Serialize + Send + 'static,
    M: DeserializeOwned + Serialize + Send + Sync + 'static,
    P: Params,
{
    fn finish(self) -> BoxFuture<'static, Result<Called, String>> {
        let sent = self.send();
        Box::pin(async move {
            Ok(match sent.await {
                Ok(page) => Called::Page {
                    status: page.status().as_u16(),
                    request_id: page.request_id().map(str::to_owned),
                    items: to_json(page.items())?,
                    meta: to_json(&page.meta())?,
                },
                Err(e) => Called::Failed(e),
            })
        })
    }
}
