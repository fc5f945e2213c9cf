//! Server settings. The binary layers defaults, file, environment and flags
//! into one of these; the server only reads it.

use std::fmt;

/// The shortest admin token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The admin bearer token. Never printed by `Debug`.
#[derive(Clone)]
pub struct ApiToken(String);

impl ApiToken {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// A token chosen by the operator: at least [`MIN_TOKEN_CHARS`]
    /// characters, no surrounding whitespace. The error never repeats it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim() != raw {
            return Err("the API token must not start or end with whitespace".into());
        }
        let n = raw.chars().count();
        if n < MIN_TOKEN_CHARS {
            return Err(format!(
                "the API token is too short ({n} characters): use at least {MIN_TOKEN_CHARS}, \
                 e.g. the output of `openssl rand -hex 32`"
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub api_token: ApiToken,
    /// How often the sweeper looks for expired holds.
    pub sweep_interval_ms: u64,
    /// Pause between the channel sync worker's rounds (stock levels out).
    pub sync_tick_ms: u64,
    /// Largest request body accepted.
    pub body_limit_bytes: usize,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// How long a dashboard sign-in lasts.
    pub session_ttl_secs: u64,
    /// Wrong tokens (API or sign-in) one client address may present per
    /// window before it gets 429 for the rest of the window.
    pub max_auth_failures: u32,
    pub auth_failure_window_secs: u64,
    /// Open connections at most; more are closed as they arrive.
    pub max_connections: usize,
    /// A connection must send a request's headers within this time, and
    /// an idle keep-alive connection is closed after it.
    pub header_timeout_secs: u64,
    /// A request (its body and the answer) must finish within this time.
    pub request_timeout_secs: u64,
    /// `GET /metrics` answers without the bearer token (off: it needs it,
    /// like the API).
    pub metrics_public: bool,
    /// Customer notifications (e-mail, webhooks); `None`: none are sent
    /// (they still queue, and the status page works).
    pub notify: Option<switchyard_engine::NotifyConfig>,
    /// The shop's name on the customer's status page.
    pub shop_name: String,
}

impl ServerConfig {
    pub fn new(api_token: ApiToken) -> Self {
        Self {
            api_token,
            sweep_interval_ms: 5_000,
            sync_tick_ms: 250,
            body_limit_bytes: 1024 * 1024,
            secure_cookies: false,
            session_ttl_secs: 7 * 24 * 3600,
            max_auth_failures: 10,
            auth_failure_window_secs: 60,
            max_connections: 4096,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            metrics_public: false,
            notify: None,
            shop_name: "Switchyard".into(),
        }
    }
}
