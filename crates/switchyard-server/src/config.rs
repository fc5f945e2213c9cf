//! Server settings. The binary layers defaults, file, environment and flags
//! into one of these; the server only reads it.

use std::fmt;

/// The admin bearer token. Never printed by `Debug`.
#[derive(Clone)]
pub struct ApiToken(String);

impl ApiToken {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
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
    /// Largest request body accepted.
    pub body_limit_bytes: usize,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
}

impl ServerConfig {
    pub fn new(api_token: ApiToken) -> Self {
        Self { api_token, sweep_interval_ms: 5_000, body_limit_bytes: 1024 * 1024, secure_cookies: false }
    }
}
