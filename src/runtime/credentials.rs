//! Where credentials come from. A client asks its [`CredentialProvider`] for each credential an
//! operation's auth names on **every attempt**, so a value may change while the client lives (a
//! refreshed access token, a rotated key) without rebuilding the client. The default provider
//! holds the values given to the builder's typed setters (`.api_key(..)`) or read by
//! `from_env()`.
//!
//! ```
//! use agentwire::{CredentialProvider, Secret};
//! use std::sync::{Arc, RwLock};
//!
//! /// A key another part of the application rotates.
//! #[derive(Debug)]
//! struct Rotating(RwLock<String>);
//!
//! impl CredentialProvider for Rotating {
//!     fn credential(&self, name: &str) -> Option<Secret> {
//!         let key = self.0.read().ok()?;
//!         (name == "api_key").then(|| Secret::new(key.as_str()))
//!     }
//! }
//! # #[cfg(feature = "bimpeai")] {
//! let client = agentwire::bimpeai::Client::builder()
//!     .credential_provider(Arc::new(Rotating(RwLock::new("sk_live_1".into()))))
//!     .build()
//!     .expect("client");
//! # let _ = client;
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;

use super::config::Secret;

/// Supplies credential values by name (`api_key`, `access_token`, as the platform's spec names
/// them), asked on every attempt of every call. `None`: not configured, so an auth alternative
/// that needs it is skipped (and a call with no usable alternative fails with `InvalidInput`
/// before anything is sent).
pub trait CredentialProvider: Send + Sync + fmt::Debug + 'static {
    /// The current value of the credential `name`.
    fn credential(&self, name: &str) -> Option<Secret>;
}

/// The default provider: fixed values, set on the client builder. `Debug` shows the names only.
#[derive(Default, Clone)]
pub struct StaticCredentials {
    values: HashMap<String, Secret>,
}

impl StaticCredentials {
    /// Sets (or replaces) the value of credential `name`.
    pub fn set(&mut self, name: impl Into<String>, value: Secret) {
        self.values.insert(name.into(), value);
    }

    /// Every credential name with a value, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl CredentialProvider for StaticCredentials {
    fn credential(&self, name: &str) -> Option<Secret> {
        self.values.get(name).cloned()
    }
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.names().collect();
        names.sort_unstable();
        f.debug_struct("StaticCredentials")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}
