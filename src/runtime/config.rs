//! Client configuration shared by every platform: base URLs per host, credentials, timeouts,
//! the retry budget, default headers, the user agent, and the injectable HTTP client and clock.
//!
//! Each platform's `Client::builder()` returns a [`ClientBuilder`] for that platform:
//!
//! ```
//! # #[cfg(feature = "bimpeai")] {
//! use std::time::Duration;
//! let client = agentwire::bimpeai::Client::builder()
//!     .api_key("sk_test")
//!     .timeout(Duration::from_secs(20))
//!     .max_retries(3)
//!     .build()
//!     .expect("valid configuration");
//! # let _ = client;
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::credentials::{CredentialProvider, StaticCredentials};
use super::error::{Error, Result};
use super::operation::{Platform, SettingName};

/// A secret string (API key, secret, token, ticket): never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it goes on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A boxed, `Send` future, as the [`Clock`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Time as the runtime sees it: backoff sleeps, deadlines and elapsed time go through this, so
/// tests can record every delay and skip the waiting.
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time; used only to read HTTP-date pacing hints
    /// (`Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`).
    fn now(&self) -> SystemTime;
    /// A monotonic reading: time since a fixed point of this clock's choosing. Deadlines and
    /// elapsed times are measured on it, so a wall clock set back or forward changes nothing.
    fn monotonic(&self) -> Duration;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The real clock: `SystemTime::now()`, `Instant::now()` and `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn monotonic(&self) -> Duration {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Default time allowed for one attempt (connect, send, headers and body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time allowed to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default retry budget: three attempts in all.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default cap on a non-streaming response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Default idle-read timeout of event streams (longer than any platform's heartbeat).
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Default bound on a whole non-streaming call: every attempt, backoff and server-requested
/// wait included (three 60 s attempts plus 60 s hints would otherwise take minutes).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(180);
/// Default bound on the time a resumable event stream spends reconnecting without delivering an
/// event; the stream ends with the last error once it passes.
pub const DEFAULT_RECONNECT_DEADLINE: Duration = Duration::from_secs(180);
/// Default longest server-requested wait honoured between attempts (`Retry-After`, SSE `retry:`).
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Redirects followed within one attempt, at most.
pub const MAX_REDIRECTS: usize = 5;

/// The resolved configuration of a client.
#[derive(Clone)]
pub(crate) struct Config {
    pub credentials: Arc<dyn CredentialProvider>,
    pub hosts: Vec<Url>,
    pub timeout: Duration,
    /// The per-attempt timeout of uploads (multipart bodies).
    pub upload_timeout: Duration,
    pub deadline: Duration,
    pub reconnect_deadline: Duration,
    pub max_retries: u32,
    pub default_headers: HeaderMap,
    pub user_agent: HeaderValue,
    pub clock: Arc<dyn Clock>,
    pub max_response_bytes: usize,
    pub stream_idle_timeout: Duration,
    /// Whether agentwire built the HTTP client (and so controls its redirect policy).
    pub own_http: bool,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    pub max_retry_after: Duration,
    /// The largest file an upload may carry, in bytes.
    pub max_upload_bytes: u64,
    /// Overrides every task profile's first poll interval.
    pub task_interval: Option<Duration>,
    /// Overrides every task profile's maximum wait.
    pub task_max_wait: Option<Duration>,
}

/// What a platform client is made of: the platform's table, the configuration and one
/// `reqwest::Client` (connection pool) shared by every clone. Not nameable outside the crate.
pub struct ClientCore {
    pub(crate) platform: &'static Platform,
    pub(crate) config: Config,
    pub(crate) http: reqwest::Client,
}

impl ClientCore {
    /// The same client (settings, hosts, connection pool) with other credentials: a platform's
    /// login returns one, its session's tokens in `provider`.
    pub(crate) fn with_credentials(&self, provider: Arc<dyn CredentialProvider>) -> Arc<Self> {
        let mut config = self.config.clone();
        config.credentials = provider;
        Arc::new(ClientCore {
            platform: self.platform,
            config,
            http: self.http.clone(),
        })
    }
}

impl fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("platform", &self.platform.name)
            .field(
                "hosts",
                &self
                    .config
                    .hosts
                    .iter()
                    .map(Url::as_str)
                    .collect::<Vec<_>>(),
            )
            .field("credentials", &self.config.credentials)
            .field("timeout", &self.config.timeout)
            .field("upload_timeout", &self.config.upload_timeout)
            .field("max_retries", &self.config.max_retries)
            .finish_non_exhaustive()
    }
}

/// A platform's client type, built by [`ClientBuilder`].
pub trait PlatformClient: Sized {
    #[doc(hidden)]
    fn platform() -> &'static Platform;
    #[doc(hidden)]
    fn from_core(core: Arc<ClientCore>) -> Self;
}

/// Builds a platform client. Every setting has a production default; only the platform's
/// credentials are required. Each platform adds typed setters for its own credentials
/// (`agentwire::bimpeai::Client::builder().api_key(..)`), and `with_env()` for reading them and
/// its base URLs from the environment.
#[must_use]
pub struct ClientBuilder<C> {
    credentials: StaticCredentials,
    provider: Option<Arc<dyn CredentialProvider>>,
    host_urls: Vec<(Option<String>, String)>,
    // `None`: the platform's default (`x-agentwire-platform.settings`), else agentwire's.
    timeout: Option<Duration>,
    upload_timeout: Option<Duration>,
    deadline: Option<Duration>,
    reconnect_deadline: Duration,
    connect_timeout: Duration,
    max_retries: Option<u32>,
    default_headers: Vec<(String, String)>,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    max_response_bytes: usize,
    stream_idle_timeout: Duration,
    backoff_base: Duration,
    backoff_cap: Duration,
    max_retry_after: Duration,
    task_interval: Option<Duration>,
    task_max_wait: Option<Duration>,
    max_upload_bytes: u64,
    _client: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("host_urls", &self.host_urls)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

impl<C> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> ClientBuilder<C> {
    /// A builder with every default.
    pub fn new() -> Self {
        ClientBuilder {
            credentials: StaticCredentials::default(),
            provider: None,
            host_urls: Vec::new(),
            timeout: None,
            upload_timeout: None,
            deadline: None,
            reconnect_deadline: DEFAULT_RECONNECT_DEADLINE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_retries: None,
            default_headers: Vec::new(),
            http: None,
            clock: Arc::new(SystemClock),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            stream_idle_timeout: DEFAULT_STREAM_IDLE_TIMEOUT,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(8),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            task_interval: None,
            task_max_wait: None,
            max_upload_bytes: super::upload::DEFAULT_MAX_UPLOAD_BYTES,
            _client: PhantomData,
        }
    }

    /// Sets the credential `name` (generated typed setters call this: `.api_key(..)`).
    pub(crate) fn credential(mut self, name: &str, value: impl Into<String>) -> Self {
        self.credentials.set(name, Secret::new(value));
        self
    }

    /// Takes credentials from this provider, asked on every attempt of every call (see
    /// [`CredentialProvider`]), instead of the values given to the typed setters.
    pub fn credential_provider(mut self, provider: Arc<dyn CredentialProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Overrides the default host's base URL. Give the origin (`http://127.0.0.1:8080`): the
    /// platform's path prefix is appended unless the URL already ends with it.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.host_urls.push((None, url.into()));
        self
    }

    /// Overrides the base URL of one named host (see the platform's docs for host names).
    pub fn host_url(mut self, host: impl Into<String>, url: impl Into<String>) -> Self {
        self.host_urls.push((Some(host.into()), url.into()));
        self
    }

    /// Time allowed for one attempt: connecting, sending, and reading the whole response
    /// (for streams: until the response headers). Default 60 s, or the platform's (SketricGen:
    /// 300 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time allowed for one attempt of an upload (a request with a multipart body). Default:
    /// the platform's (SketricGen: 300 s), else [`Self::timeout`].
    pub fn upload_timeout(mut self, timeout: Duration) -> Self {
        self.upload_timeout = Some(timeout);
        self
    }

    /// Bound on a whole non-streaming call, every attempt, backoff and server-requested wait
    /// included; measured on the clock's monotonic reading. Default 180 s, or the longer of the
    /// timeouts when one is longer. A call that runs out of time fails with `Timeout` (or the
    /// last attempt's error, when waiting for another attempt would pass the deadline).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Bound on the time a resumable event stream spends reconnecting without delivering an
    /// event (every open, backoff and server-requested wait included). Default 180 s; it starts
    /// again after every delivered event.
    pub fn reconnect_deadline(mut self, deadline: Duration) -> Self {
        self.reconnect_deadline = deadline;
        self
    }

    /// Time allowed to establish a connection. Default 10 s. Ignored with [`Self::http_client`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times a failed call is retried (when retrying is safe). Default 2, or the
    /// platform's (SketricGen: 3); 0 turns retries (and automatic idempotency keys) off.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// A header sent on every request (per-call headers override it). An invalid name or
    /// value makes [`Self::build`] fail.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.default_headers.push((name.into(), value.into()));
        self
    }

    /// Uses this `reqwest::Client` (its pool, proxy, TLS and redirect settings) instead of the
    /// one agentwire builds.
    ///
    /// agentwire's own client follows redirects itself, only within one origin and never by
    /// turning a write into another method. An injected client keeps its own redirect policy,
    /// which agentwire cannot change: header credentials (`Authorization`, `X-API-Key`, ...) may
    /// follow that client's own redirects, to another host too, so give it
    /// `reqwest::redirect::Policy::none()` unless you trust every redirect. agentwire still
    /// refuses the result of a write whose final URL differs from the one sent (kind `Other`).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Uses this clock for backoff sleeps and deadlines (tests inject one that records).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Largest non-streaming response body accepted. Default 32 MiB.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// How long an event stream may stay silent before it counts as dropped. Default 90 s.
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// Backoff between retries: full jitter over `base * 2^attempt`, capped at `cap`.
    /// Defaults 0.5 s and 8 s.
    pub fn backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap.max(base);
        self
    }

    /// Longest server-requested wait (`Retry-After`) honoured between retries; longer hints
    /// are clamped to it. Default 60 s.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// The largest file one upload may carry, in bytes (default
    /// [`DEFAULT_MAX_UPLOAD_BYTES`](crate::DEFAULT_MAX_UPLOAD_BYTES), 100 MiB). A larger file is
    /// an `InvalidInput` error before any request is sent.
    pub fn max_upload_bytes(mut self, bytes: u64) -> Self {
        self.max_upload_bytes = bytes;
        self
    }

    /// The first wait between polls of a task, for every task operation of this client
    /// (default: the platform's task profile, Knowrithm's 1.5 s); it grows by the profile's
    /// factor up to its cap, and the server's pacing hints replace it. Zero is refused
    /// (`InvalidInput` at `build()`).
    pub fn task_poll_interval(mut self, interval: Duration) -> Self {
        self.task_interval = Some(interval);
        self
    }

    /// The longest a task is waited for, for every task operation of this client (default: the
    /// platform's task profile, Knowrithm's 180 s); a call's `.max_wait()` overrides it. Zero is
    /// refused (`InvalidInput` at `build()`).
    pub fn task_max_wait(mut self, max_wait: Duration) -> Self {
        self.task_max_wait = Some(max_wait);
        self
    }

    /// Checks the configuration and builds the shared core for `platform`.
    pub(crate) fn build_core(self, platform: &'static Platform) -> Result<Arc<ClientCore>> {
        let invalid = |msg: String| Error::invalid_input(msg).with_platform(platform);

        for (name, secret) in self.credentials.iter() {
            check_credential(name, secret).map_err(invalid)?;
        }
        // What the builder left unset: the platform's defaults, else agentwire's.
        let seconds = |name: SettingName| {
            platform
                .setting(name)
                .and_then(|s| s.default)
                .and_then(|d| Duration::try_from_secs_f64(d).ok())
        };
        let timeout = self
            .timeout
            .or_else(|| seconds(SettingName::Timeout))
            .unwrap_or(DEFAULT_TIMEOUT);
        let upload_timeout = self
            .upload_timeout
            .or_else(|| seconds(SettingName::UploadTimeout))
            .unwrap_or(timeout);
        let max_retries = self
            .max_retries
            .or_else(|| {
                platform
                    .setting(SettingName::MaxRetries)
                    .and_then(|s| s.default)
                    .map(|d| d as u32)
            })
            .unwrap_or(DEFAULT_MAX_RETRIES);
        // A call is given at least as long as one attempt may take.
        let deadline = self
            .deadline
            .unwrap_or_else(|| DEFAULT_DEADLINE.max(timeout).max(upload_timeout));
        for (what, value) in [
            ("timeout", timeout),
            ("upload timeout", upload_timeout),
            ("deadline", deadline),
            ("reconnect deadline", self.reconnect_deadline),
            ("connect timeout", self.connect_timeout),
            ("stream idle timeout", self.stream_idle_timeout),
            (
                "task poll interval",
                self.task_interval.unwrap_or(Duration::MAX),
            ),
            (
                "task maximum wait",
                self.task_max_wait.unwrap_or(Duration::MAX),
            ),
        ] {
            if value.is_zero() {
                return Err(invalid(format!("the {what} must be longer than zero")));
            }
        }
        let credentials: Arc<dyn CredentialProvider> = match self.provider {
            Some(provider) => provider,
            None => Arc::new(self.credentials),
        };
        for required in platform.required_credentials {
            if credentials.credential(required).is_none() {
                let env = platform
                    .credential(required)
                    .map(|c| format!(" (or set {} and use `with_env()`)", c.env))
                    .unwrap_or_default();
                return Err(invalid(format!(
                    "no {} configured: call .{required}(..) on the builder{env}",
                    required.replace('_', " "),
                )));
            }
        }

        let mut hosts = Vec::with_capacity(platform.hosts.len());
        for host in platform.hosts {
            let url = Url::parse(host.url).map_err(|e| {
                invalid(format!(
                    "the built-in URL of host {} is invalid: {e}",
                    host.name
                ))
            })?;
            hosts.push(url);
        }
        for (name, raw) in &self.host_urls {
            let index = match name {
                None => 0,
                Some(name) => platform
                    .hosts
                    .iter()
                    .position(|h| h.name == name.as_str())
                    .ok_or_else(|| {
                        let known: Vec<_> = platform.hosts.iter().map(|h| h.name).collect();
                        invalid(format!(
                            "unknown host {name:?}; this platform has {known:?}"
                        ))
                    })?,
            };
            let prefix = platform.hosts.get(index).map(|h| h.prefix).unwrap_or("");
            hosts[index] = override_url(raw, prefix).map_err(invalid)?;
        }

        let mut default_headers = HeaderMap::new();
        for (name, value) in &self.default_headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("invalid header name {name:?}")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("invalid value for header {name}")))?;
            if super::options::is_credential_header(name.as_str()) {
                value.set_sensitive(true);
            }
            default_headers.append(name, value);
        }

        let user_agent = HeaderValue::from_str(&format!(
            "agentwire/{} ({})",
            env!("CARGO_PKG_VERSION"),
            platform.name
        ))
        .map_err(|_| invalid("invalid user agent".into()))?;

        let own_http = self.http.is_none();
        let http = match self.http {
            Some(http) => http,
            None => default_http_client(self.connect_timeout).map_err(|e| {
                Error::new(
                    super::error::ErrorKind::Connection,
                    format!("could not set up HTTP: {e}"),
                )
                .with_platform(platform)
            })?,
        };

        let config = Config {
            credentials,
            hosts,
            timeout,
            upload_timeout,
            deadline,
            reconnect_deadline: self.reconnect_deadline,
            max_retries,
            default_headers,
            user_agent,
            clock: self.clock,
            max_response_bytes: self.max_response_bytes,
            stream_idle_timeout: self.stream_idle_timeout,
            backoff_base: self.backoff_base,
            backoff_cap: self.backoff_cap,
            max_retry_after: self.max_retry_after,
            task_interval: self.task_interval,
            task_max_wait: self.task_max_wait,
            max_upload_bytes: self.max_upload_bytes,
            own_http,
        };
        Ok(Arc::new(ClientCore {
            platform,
            config,
            http,
        }))
    }
}

impl<C: PlatformClient> ClientBuilder<C> {
    /// Reads the platform's credentials, base URLs and settings from the environment, as its
    /// spec names them (BimpeAI: `BIMPEAI_API_KEY`, `BIMPEAI_BASE_URL`; SketricGen also
    /// `SKETRICGEN_TIMEOUT`, in seconds): a variable that is set overrides what the builder has
    /// so far; a required credential that is neither set here nor on the builder, or a setting
    /// that does not parse, fails with `InvalidInput` naming its variable. Pointing an application at
    /// `agentwire mock` is then one variable: `BIMPEAI_BASE_URL=http://127.0.0.1:PORT`.
    pub fn with_env(mut self) -> Result<Self> {
        let platform = C::platform();
        let var = |name: &str| -> Result<Option<String>> {
            match std::env::var(name) {
                Ok(value) if value.trim().is_empty() => Ok(None),
                Ok(value) => Ok(Some(value)),
                Err(std::env::VarError::NotPresent) => Ok(None),
                Err(std::env::VarError::NotUnicode(_)) => Err(Error::invalid_input(format!(
                    "the environment variable {name} is not valid Unicode"
                ))
                .with_platform(platform)),
            }
        };
        for credential in platform.credentials {
            if let Some(value) = var(credential.env)? {
                self.credentials.set(credential.name, Secret::new(value));
            }
        }
        for required in platform.required_credentials {
            let present = self.credentials.names().any(|n| n == *required);
            if !present && self.provider.is_none() {
                let env = platform.credential(required).map_or(*required, |c| c.env);
                return Err(Error::invalid_input(format!(
                    "the environment variable {env} is not set ({} needs its {})",
                    platform.display_name,
                    required.replace('_', " ")
                ))
                .with_platform(platform));
            }
        }
        for host in platform.hosts {
            if let Some(url) = var(host.env)? {
                // Checked here, so that the error names the variable.
                override_url(&url, host.prefix).map_err(|why| {
                    Error::invalid_input(format!(
                        "the environment variable {} is not a usable base URL: {why}",
                        host.env
                    ))
                    .with_platform(platform)
                })?;
                self.host_urls.push((Some(host.name.to_owned()), url));
            }
        }
        for setting in platform.settings {
            let Some(env) = setting.env else { continue };
            let Some(raw) = var(env)? else { continue };
            let bad = |what: &str| {
                Error::invalid_input(format!(
                    "the environment variable {env} must be {what} (got {:?})",
                    raw.trim()
                ))
                .with_platform(platform)
            };
            match setting.name {
                SettingName::Timeout | SettingName::UploadTimeout => {
                    let seconds = raw
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|s| *s > 0.0)
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .ok_or_else(|| bad("a number of seconds above zero"))?;
                    if setting.name == SettingName::Timeout {
                        self.timeout = Some(seconds);
                    } else {
                        self.upload_timeout = Some(seconds);
                    }
                }
                SettingName::MaxRetries => {
                    let retries = raw
                        .trim()
                        .parse::<u32>()
                        .map_err(|_| bad("a whole number of retries (0 or more)"))?;
                    self.max_retries = Some(retries);
                }
            }
        }
        Ok(self)
    }

    /// Checks the configuration and builds the client. Fails with `InvalidInput` on a missing
    /// or empty credential, a bad URL or a bad header, before any request is sent.
    pub fn build(self) -> Result<C> {
        let platform = C::platform();
        self.build_core(platform).map(C::from_core)
    }
}

/// A credential value that can go on the wire: not empty, and valid in a header.
fn check_credential(name: &str, secret: &Secret) -> std::result::Result<(), String> {
    let what = name.replace('_', " ");
    if secret.expose().trim().is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if HeaderValue::from_str(secret.expose()).is_err() {
        return Err(format!(
            "the {what} contains characters that cannot be sent in a header"
        ));
    }
    Ok(())
}

/// A caller's base URL, with the host's prefix appended unless already there.
fn override_url(raw: &str, prefix: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("invalid base URL {raw:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("base URL {raw:?} must be http or https"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "base URL {raw:?} must not have a query or fragment"
        ));
    }
    let path = url.path().trim_end_matches('/');
    let prefix = prefix.trim_end_matches('/');
    let full = if prefix.is_empty() || path.ends_with(prefix) {
        path.to_string()
    } else {
        format!("{path}{prefix}")
    };
    let mut url = url;
    url.set_path(&full);
    Ok(url)
}

/// The TLS configuration of every connection agentwire makes (HTTP, and WebSocket `wss:`):
/// rustls with the ring provider handed to this config only (never installed process-wide) and
/// platform certificate verification.
pub(crate) fn tls_config() -> std::result::Result<rustls::ClientConfig, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_platform_verifier()
        .map_err(|e| e.to_string())?
        .with_no_client_auth())
}

/// The HTTP client agentwire builds: TLS as [`tls_config`] sets it up, and no redirects followed
/// by reqwest: `send` follows them itself, by the rules in its module docs.
fn default_http_client(connect_timeout: Duration) -> std::result::Result<reqwest::Client, String> {
    let tls = tls_config()?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.without_url().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_keeps_prefix_once() {
        let u = override_url("http://127.0.0.1:9/", "/api/v1/console").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:9/api/v1/console");
        let u = override_url("http://h/api/v1/console/", "/api/v1/console").unwrap();
        assert_eq!(u.as_str(), "http://h/api/v1/console");
        let u = override_url("http://h/proxy", "/api/v1/console").unwrap();
        assert_eq!(u.as_str(), "http://h/proxy/api/v1/console");
        assert!(override_url("ftp://h", "").is_err());
        assert!(override_url("not a url", "").is_err());
        assert!(override_url("http://h/?x=1", "").is_err());
    }

    #[test]
    fn secret_debug_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("sk_live_1")), "Secret(***)");
    }
}
