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
use std::sync::{Arc, PoisonError, RwLock};

use super::config::Secret;

/// Supplies credential values by name (`api_key`, `access_token`, as the platform's spec names
/// them), asked on every attempt of every call. `None`: not configured, so an auth alternative
/// that needs it is skipped (and a call with no usable alternative fails with `InvalidInput`
/// before anything is sent).
pub trait CredentialProvider: Send + Sync + fmt::Debug + 'static {
    /// The current value of the credential `name`.
    fn credential(&self, name: &str) -> Option<Secret>;

    /// Whether this provider may refresh credential `name` ([`Self::refresh`]); the default
    /// `false` keeps the runtime from reading it twice per attempt for nothing.
    fn refreshes(&self, name: &str) -> bool {
        let _ = name;
        false
    }

    /// Replaces credential `name` after the platform refused `stale` with a `401` (an expired
    /// access token): `None` when this provider cannot refresh it (the default), else the
    /// refresh under way. The call that hit the `401` is re-sent once when it succeeds. Calls
    /// that hit the `401` at the same moment should share one refresh: a provider whose value
    /// is no longer `stale` has been refreshed already and answers at once
    /// ([`RefreshingCredentials`] does both).
    ///
    /// Errors: why the refresh failed; the call then fails with `Authentication`, saying so.
    fn refresh<'a>(
        &'a self,
        name: &'a str,
        stale: &'a Secret,
    ) -> Option<super::config::BoxFuture<'a, super::error::Result<()>>> {
        let _ = (name, stale);
        None
    }
}

/// The way a [`RefreshingCredentials`] gets a new value: an async function of nothing, the
/// platform's refresh call (Linktor's `POST /auth/refresh` with its refresh token, say).
pub type Refresher =
    Arc<dyn Fn() -> super::config::BoxFuture<'static, super::error::Result<Secret>> + Send + Sync>;

/// Credentials one of which expires and is refreshed: fixed values, and credential `name` (an
/// access token) replaced by `refresher` when the platform refuses it. Concurrent `401`s share
/// one refresh: the first caller runs it, the others wait and then see the new value.
pub struct RefreshingCredentials {
    fixed: StaticCredentials,
    name: String,
    current: RwLock<Option<Secret>>,
    refresher: Refresher,
    gate: tokio::sync::Mutex<()>,
}

impl RefreshingCredentials {
    /// `fixed` values, and `name` refreshed by `refresher` (its first value `initial`, if any).
    pub fn new(
        fixed: StaticCredentials,
        name: impl Into<String>,
        initial: Option<Secret>,
        refresher: Refresher,
    ) -> Self {
        RefreshingCredentials {
            fixed,
            name: name.into(),
            current: RwLock::new(initial),
            refresher,
            gate: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Option<Secret> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl CredentialProvider for RefreshingCredentials {
    fn credential(&self, name: &str) -> Option<Secret> {
        if name == self.name {
            return self.current();
        }
        self.fixed.credential(name)
    }

    fn refreshes(&self, name: &str) -> bool {
        name == self.name
    }

    fn refresh<'a>(
        &'a self,
        name: &'a str,
        stale: &'a Secret,
    ) -> Option<super::config::BoxFuture<'a, super::error::Result<()>>> {
        if name != self.name {
            return None;
        }
        Some(Box::pin(async move {
            let _one_at_a_time = self.gate.lock().await;
            // Another call refreshed it while this one waited: nothing more to do.
            if self
                .current()
                .is_some_and(|now| now.expose() != stale.expose())
            {
                return Ok(());
            }
            let fresh = (self.refresher)().await?;
            *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(fresh);
            Ok(())
        }))
    }
}

impl fmt::Debug for RefreshingCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshingCredentials")
            .field("fixed", &self.fixed)
            .field("refreshed", &self.name)
            .finish_non_exhaustive()
    }
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
