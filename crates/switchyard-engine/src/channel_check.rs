//! "Test connection": one cheap authenticated read against the platform
//! (after a token refresh where the platform has one), so a shop owner
//! learns that the settings and credentials work before going live. It
//! changes nothing on the platform and is logged like every request.

use serde::Serialize;
use switchyard_channels::remote::{remote, Conn, Outcome};
use switchyard_core::ChannelName;
use switchyard_store::{catalog, channel_sync};

use crate::channel_push::connection_settings;
use crate::{ChannelSync, Error};

/// What a connection test found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionCheck {
    /// The platform accepted our credentials and answered.
    pub ok: bool,
    /// How far it got: `settings` (a request could not even be built),
    /// `token` (the token refresh), or `request` (the test read itself).
    pub step: String,
    /// The platform's HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// In plain words: what worked, or what to fix.
    pub message: String,
}

impl ConnectionCheck {
    fn failed(step: &str, http_status: Option<i64>, message: String) -> Self {
        ConnectionCheck { ok: false, step: step.to_owned(), http_status, message }
    }
}

impl ChannelSync {
    /// Tests a connection now, whatever its mode (an `import_only`
    /// connection is tested before it goes live).
    pub async fn check_connection(&mut self, name: &ChannelName) -> Result<ConnectionCheck, Error> {
        let (c, mut credentials, stored) = {
            let mut tx = self.engine().read().await?;
            let c = catalog::get_channel(&mut tx, name)
                .await?
                .ok_or_else(|| Error::NotFound { what: "channel", key: name.to_string() })?;
            let creds = catalog::credentials(&mut tx, name).await?;
            let stored = channel_sync::token(&mut tx, name).await?;
            tx.rollback().await?;
            (c, creds, stored)
        };
        let Some(api) = remote(c.kind) else {
            return Err(Error::Invalid(format!(
                "channel {name} is of kind {}, which Switchyard does not call: there is nothing to test",
                c.kind.as_str()
            )));
        };
        if let Some(rotated) = stored.as_ref().and_then(|t| t.refresh_token.clone()) {
            credentials.insert("refresh_token".into(), rotated);
        }
        let settings = connection_settings(&c);
        let conn = Conn { settings: &settings, credentials: &credentials };
        let mut probe = match api.probe_request(conn) {
            Ok(r) => r,
            Err(e) => return Ok(ConnectionCheck::failed("settings", None, e.to_string())),
        };
        // A fresh token, not a stored one: the refresh token is what is tested.
        let access = match self.access_token(&c, api, conn, None).await? {
            Ok(t) => t,
            Err(o) => return Ok(ConnectionCheck::failed("token", None, explain("the token refresh", &o))),
        };
        if let Err(e) = api.authorize(conn, access.as_deref(), &mut probe) {
            return Ok(ConnectionCheck::failed("settings", None, e.to_string()));
        }
        let (outcome, status, _) = self.send(conn, api, &probe).await;
        self.log(&c, "test", 1, &outcome, status).await?;
        Ok(match outcome {
            Outcome::Accepted => ConnectionCheck {
                ok: true,
                step: "request".into(),
                http_status: status,
                message: format!("{} accepted the credentials and answered", c.kind.as_str()),
            },
            o => ConnectionCheck::failed("request", status, explain("the test request", &o)),
        })
    }
}

fn explain(what: &str, o: &Outcome) -> String {
    match o {
        Outcome::Accepted => format!("{what} was accepted"),
        Outcome::Throttled { .. } => format!("{what} was rate limited: try again in a minute"),
        Outcome::Transient(e) => format!("{what} failed for now: {e}"),
        Outcome::Rejected(e) => format!("{what} was refused: {e}"),
    }
}
