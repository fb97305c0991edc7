//! Shared set-up for the integration tests: a BimpeAI mock on loopback and a client pointed at
//! it with a recording clock, so backoffs are observed instead of waited for.

#![allow(dead_code)]

use std::sync::Arc;

use agentwire::bimpeai::{Client, PLATFORM};
use agentwire::mock::{MockServer, RecordingClock};

pub mod raw;

pub struct Setup {
    pub mock: MockServer,
    pub client: Client,
    pub clock: Arc<RecordingClock>,
}

/// A mock serving the embedded fixtures and a client with key `sk_test` and a recording clock.
pub async fn setup() -> Setup {
    setup_with(|b| b).await
}

/// As [`setup`], with extra builder settings.
pub async fn setup_with(
    f: impl FnOnce(agentwire::ClientBuilder<Client>) -> agentwire::ClientBuilder<Client>,
) -> Setup {
    let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
    let clock = Arc::new(RecordingClock::new());
    let builder = Client::builder()
        .api_key("sk_test")
        .base_url(mock.base_url())
        .clock(clock.clone());
    let client = f(builder).build().expect("client builds");
    Setup {
        mock,
        client,
        clock,
    }
}

/// A client pointed at `origin` (a raw server's), with key `sk_test` and a recording clock.
pub fn client_for(
    origin: &str,
    f: impl FnOnce(agentwire::ClientBuilder<Client>) -> agentwire::ClientBuilder<Client>,
) -> (Client, Arc<RecordingClock>) {
    let clock = Arc::new(RecordingClock::new());
    let builder = Client::builder()
        .api_key("sk_test")
        .base_url(origin)
        .clock(clock.clone());
    (f(builder).build().expect("client builds"), clock)
}

/// A plain `reqwest::Client` with reqwest's own (default) redirect policy. agentwire installs no
/// process-wide crypto provider, so it brings its own.
pub fn plain_http() -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("http client")
}
