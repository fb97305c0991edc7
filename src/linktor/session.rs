//! A logged-in user's session: a client that sends the user's access token and renews it
//! through `POST /auth/refresh` when Linktor refuses it with a `401` (the shared runtime's
//! [`RefreshingCredentials`]: one refresh for every call refused at the same moment, each call
//! re-sent once).

use std::sync::{Arc, Mutex, PoisonError};

use super::{Client, types};
use crate::runtime::config::Secret;
use crate::runtime::credentials::{Refresher, RefreshingCredentials, StaticCredentials};
use crate::runtime::error::Result;

impl Client {
    /// Logs in (`POST /auth/login`, no credential sent) and returns a client for the session:
    /// the same settings and connection pool as this one, authenticated by the user's access
    /// token alone (`Authorization: Bearer`; an API key of this client is not carried over, as
    /// it would be preferred). A call refused with `401` makes it trade the refresh token for
    /// new tokens once ([`Self::with_session`]).
    ///
    /// To keep a session across restarts, call `auth().login(..)` yourself, store its tokens
    /// and pass them to [`Self::with_session`].
    ///
    /// # Errors
    /// What the login call fails with: `Authentication` for a wrong email or password,
    /// `InvalidInput` for an empty one (nothing sent).
    ///
    /// ```no_run
    /// # async fn demo() -> agentwire::Result<()> {
    /// let anonymous = agentwire::linktor::Client::builder().build()?;
    /// let me = anonymous.login("ana@example.com", "correct horse").await?;
    /// println!("{}", me.me().get().await?.email);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login(
        &self,
        email: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<Client> {
        // A blank email or empty password is refused before sending by the spec's rules.
        let credentials = types::LoginRequest::builder()
            .email(email.into())
            .password(password.into());
        let tokens = self.auth().login(credentials).await?;
        Ok(self.with_session(tokens.access_token, tokens.refresh_token))
    }

    /// A client for a session whose tokens you hold (from `auth().login(..)`, or stored): it
    /// sends `access_token` as `Authorization: Bearer`, and when a call is refused with `401`
    /// it trades `refresh_token` for new tokens (`POST /auth/refresh`, through this client,
    /// which sends no credential there), keeps both, and re-sends the call once. Concurrent
    /// refusals share one refresh. A failed refresh fails the calls with `Authentication`,
    /// saying that the refresh failed and why. The tokens never appear in `Debug`, logs or
    /// errors.
    pub fn with_session(
        &self,
        access_token: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Client {
        let anonymous = self.clone();
        let refresh_token = Arc::new(Mutex::new(Secret::new(refresh_token)));
        let refresher: Refresher = Arc::new(move || {
            let (client, refresh_token) = (anonymous.clone(), refresh_token.clone());
            Box::pin(async move {
                let current = refresh_token
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let trade = types::RefreshRequest::builder().refresh_token(current.expose());
                let fresh = client.auth().refresh(trade).await?;
                *refresh_token.lock().unwrap_or_else(PoisonError::into_inner) =
                    Secret::new(fresh.refresh_token);
                Ok(Secret::new(fresh.access_token))
            })
        });
        let initial = Some(Secret::new(access_token));
        let none = StaticCredentials::default();
        let session = RefreshingCredentials::new(none, "access_token", initial, refresher);
        self.with_credentials(Arc::new(session))
    }
}
