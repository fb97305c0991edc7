//! Per-call options: every generated request builder carries a [`CallOptions`] and offers
//! `.timeout()`, `.max_retries()`, `.idempotency_key()`, `.request_id()` and `.header()`, each
//! overriding the client's setting for that one call.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::config::Secret;
use super::error::{Error, Result};

/// Whether a header carries a credential, by name: `Authorization`, cookies, and any name that
/// says key, secret, token, ticket, password, session or signature — which covers every
/// credential header an operation table names (`X-API-Key`, `X-API-Secret`, `API-KEY`, ...).
/// Such values are marked sensitive and never shown by `Debug`.
pub(crate) fn is_credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "key",
        "secret",
        "token",
        "ticket",
        "password",
        "session",
        "signature",
        "auth",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// Settings for one call; the client's configuration fills in what is not set.
///
/// `Debug` shows header names, with the value of every credential-bearing header (see the
/// list on [`CallOptions::header`]) replaced by `***`.
#[derive(Clone, Default)]
pub struct CallOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) headers: HeaderMap,
    /// A bearer token for this call only: it picks the operation's auth alternative that sends
    /// `Authorization: Bearer`.
    pub(crate) bearer: Option<Secret>,
    /// The first invalid setting, reported as `InvalidInput` when the call is sent.
    pub(crate) invalid: Option<String>,
}

impl CallOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Time allowed for each attempt of this call. Zero is refused (`InvalidInput` when the
    /// call is sent): no answer could ever arrive.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        if timeout.is_zero() {
            self.invalid
                .get_or_insert_with(|| "the timeout must be longer than zero".into());
        }
        self.timeout = Some(timeout);
        self
    }

    /// Bound on this whole call, every attempt and backoff included. Zero is refused, as for
    /// [`CallOptions::timeout`].
    pub fn deadline(mut self, deadline: Duration) -> Self {
        if deadline.is_zero() {
            self.invalid
                .get_or_insert_with(|| "the deadline must be longer than zero".into());
        }
        self.deadline = Some(deadline);
        self
    }

    /// Retry budget of this call (0: no retries).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// The idempotency key of this write (sent on every attempt).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        if key.is_empty() || HeaderValue::from_str(&key).is_err() {
            self.invalid.get_or_insert_with(|| {
                "the idempotency key is empty or not a valid header value".into()
            });
        }
        self.idempotency_key = Some(key);
        self
    }

    /// The request id of this call (sent on every attempt).
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        if id.is_empty() || HeaderValue::from_str(&id).is_err() {
            self.invalid.get_or_insert_with(|| {
                "the request id is empty or not a valid header value".into()
            });
        }
        self.request_id = Some(id);
        self
    }

    /// A bearer token (a user's access token, say) for this call only. It selects the
    /// operation's auth alternative that sends `Authorization: Bearer`, with this token in place
    /// of the configured one; the call fails with `InvalidInput` before sending when the
    /// operation has no such alternative. Redacted everywhere, like every credential.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        if token.trim().is_empty() || HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            self.invalid.get_or_insert_with(|| {
                "the bearer token is empty or not a valid header value".into()
            });
        }
        self.bearer = Some(Secret::new(token));
        self
    }

    /// A header for this call; it replaces a default header of the same name.
    ///
    /// Credential-bearing headers — `Authorization`, `Cookie`, and any name containing key,
    /// secret, token, ticket, password, session, signature or auth — are marked sensitive:
    /// never shown by `Debug`, never logged.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name_str = name.as_ref();
        match (
            HeaderName::from_bytes(name_str.as_bytes()),
            HeaderValue::from_str(value.as_ref()),
        ) {
            (Ok(n), Ok(mut v)) => {
                if is_credential_header(n.as_str()) {
                    v.set_sensitive(true);
                }
                self.headers.insert(n, v);
            }
            _ => {
                self.invalid
                    .get_or_insert_with(|| format!("invalid header {name_str:?}"));
            }
        }
        self
    }

    /// The per-call headers as `Debug` shows them: credentials as `***`.
    fn shown_headers(&self) -> Vec<(&str, String)> {
        self.headers
            .iter()
            .map(|(name, value)| {
                let shown = if value.is_sensitive() || is_credential_header(name.as_str()) {
                    "***".to_owned()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str(), shown)
            })
            .collect()
    }

    pub(crate) fn check(&self) -> Result<()> {
        match &self.invalid {
            Some(msg) => Err(Error::invalid_input(msg.clone())),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("max_retries", &self.max_retries)
            .field("idempotency_key", &self.idempotency_key)
            .field("request_id", &self.request_id)
            .field("headers", &self.shown_headers())
            .field("bearer", &self.bearer)
            .field("invalid", &self.invalid)
            .finish()
    }
}

/// The per-call options of every request builder, written once: `.timeout()`, `.deadline()`,
/// `.max_retries()`, `.idempotency_key()`, `.request_id()`, `.header()` and `.options()`, each
/// overriding the client's setting for that one call. Bring it into scope with
/// `use agentwire::prelude::*;`.
///
/// ```
/// # #[cfg(feature = "bimpeai")] {
/// use agentwire::prelude::*;
/// use std::time::Duration;
/// let client = agentwire::bimpeai::Client::new("sk_test").expect("client");
/// let request = client
///     .agents()
///     .retrieve("a_1")
///     .timeout(Duration::from_secs(5))
///     .max_retries(0)
///     .header("x-trace", "abc");
/// # let _ = request;
/// # }
/// ```
pub trait RequestOptions: Sized {
    /// The builder's options, for the provided methods (not for calling directly).
    #[doc(hidden)]
    fn call_options(&mut self) -> &mut CallOptions;

    /// Time allowed for each attempt of this call (overrides the client's `timeout`).
    fn timeout(mut self, timeout: Duration) -> Self {
        update(&mut self, |o| o.timeout(timeout));
        self
    }

    /// Bound on this whole call, every attempt, backoff and server-requested wait included
    /// (overrides the client's `deadline`).
    fn deadline(mut self, deadline: Duration) -> Self {
        update(&mut self, |o| o.deadline(deadline));
        self
    }

    /// Retry budget of this call (0: no retries, and no automatic idempotency key).
    fn max_retries(mut self, retries: u32) -> Self {
        update(&mut self, |o| o.max_retries(retries));
        self
    }

    /// The idempotency key of this call, sent on every attempt (writes only). An empty key or
    /// one that is not a valid header value fails the call with `InvalidInput`, before sending.
    fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        update(&mut self, |o| o.idempotency_key(key));
        self
    }

    /// The request id of this call, sent on every attempt.
    fn request_id(mut self, id: impl Into<String>) -> Self {
        update(&mut self, |o| o.request_id(id));
        self
    }

    /// A header for this call; it replaces a default header of the same name. Credential
    /// headers are redacted everywhere (see [`CallOptions::header`]).
    fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        update(&mut self, |o| o.header(name, value));
        self
    }

    /// A bearer token for this call only, selecting the auth alternative that sends it (see
    /// [`CallOptions::bearer_token`]).
    fn bearer_token(mut self, token: impl Into<String>) -> Self {
        update(&mut self, |o| o.bearer_token(token));
        self
    }

    /// Replaces every per-call option at once.
    fn options(mut self, options: CallOptions) -> Self {
        *self.call_options() = options;
        self
    }
}

fn update<B: RequestOptions>(builder: &mut B, f: impl FnOnce(CallOptions) -> CallOptions) {
    let options = std::mem::take(builder.call_options());
    *builder.call_options() = f(options);
}
