//! One typed, layered configuration: defaults → TOML file (`--config`) →
//! `SWITCHYARD_*` environment variables → command-line flags.

use std::path::Path;

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use switchyard_core::ExpiredAction;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// SQLite file path or postgres:// URL.
    pub db: String,
    pub listen: String,
    /// The admin token; generated and printed at start when unset. Always
    /// a string: `SWITCHYARD_API_TOKEN` is read as is (never parsed as a
    /// number), and an error about it never repeats it.
    #[serde(default, skip_serializing, deserialize_with = "token_string")]
    pub api_token: Option<String>,
    pub reservation_ttl_secs: u64,
    pub expired_action: ExpiredAction,
    pub sweep_interval_ms: u64,
    /// Pause between the channel sync worker's rounds.
    pub sync_tick_ms: u64,
    pub body_limit_bytes: usize,
    pub secure_cookies: bool,
    /// How long a dashboard sign-in lasts.
    pub session_ttl_secs: u64,
    /// Wrong tokens one client address may present per window before 429.
    pub max_auth_failures: u32,
    pub auth_failure_window_secs: u64,
    /// Open connections at most; more are closed on arrival.
    pub max_connections: usize,
    /// Time to send a request's headers; also how long an idle keep-alive
    /// connection stays open.
    pub header_timeout_secs: u64,
    /// Time limit of one request.
    pub request_timeout_secs: u64,
    /// Serve `GET /metrics` (Prometheus) without the bearer token (a scraper
    /// on a private network); off by default.
    pub metrics_public: bool,
    /// Writes that may wait for the writer before new ones get 503.
    pub write_queue: usize,
    /// The most writes one SQLite commit carries.
    pub max_batch: usize,
    /// PostgreSQL: writes run at once, each on its own connection.
    pub pg_writers: usize,
    /// tracing filter, e.g. `info` or `switchyard=debug`.
    pub log: String,
    /// Customer notifications: `[notify]`, `[notify.smtp]`, `[[notify.webhooks]]`.
    #[serde(default)]
    pub notify: crate::notify_settings::NotifySettings,
    /// A return carrier's label API (`switchyard_engine::return_carrier`):
    /// its base URL and API key, both or neither. Unset: the built-in
    /// self-printed labels.
    #[serde(default)]
    pub return_carrier_url: Option<String>,
    /// Never printed; `SWITCHYARD_RETURN_CARRIER_API_KEY` is read as is.
    #[serde(default, skip_serializing)]
    pub return_carrier_api_key: Option<CarrierKey>,
}

/// The return carrier's API key: `Debug` hides it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct CarrierKey(pub String);

impl std::fmt::Debug for CarrierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            db: "./switchyard.db".into(),
            listen: "127.0.0.1:8080".into(),
            api_token: None,
            reservation_ttl_secs: 15 * 60,
            expired_action: ExpiredAction::Cancel,
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
            write_queue: 4096,
            max_batch: 256,
            pg_writers: 12,
            log: "info".into(),
            notify: Default::default(),
            return_carrier_url: None,
            return_carrier_api_key: None,
        }
    }
}

/// Values given as flags, which win over everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

/// The settings the environment may set (other `SWITCHYARD_*` variables,
/// such as the test suite's, are not settings).
const KEYS: [&str; 20] = [
    "db",
    "listen",
    "reservation_ttl_secs",
    "expired_action",
    "sweep_interval_ms",
    "sync_tick_ms",
    "body_limit_bytes",
    "secure_cookies",
    "session_ttl_secs",
    "max_auth_failures",
    "auth_failure_window_secs",
    "max_connections",
    "header_timeout_secs",
    "request_timeout_secs",
    "metrics_public",
    "write_queue",
    "max_batch",
    "pg_writers",
    "log",
    "return_carrier_url",
];

impl Settings {
    pub fn load(file: Option<&Path>, flags: Overrides) -> anyhow::Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.exists(), "config file {} does not exist", file.display());
            fig = fig.merge(Toml::file(file));
        }
        let mut settings: Settings = fig
            .merge(Env::prefixed("SWITCHYARD_").only(&KEYS))
            // SWITCHYARD_NOTIFY_PUBLIC_URL, _SHOP_NAME, _STAFF_EMAIL, SWITCHYARD_SMTP_HOST, ...
            .merge(
                Env::prefixed("SWITCHYARD_NOTIFY_")
                    .only(&["public_url", "shop_name", "staff_email"])
                    .map(|k| format!("notify.{}", k.as_str()).into()),
            )
            .merge(
                Env::prefixed("SWITCHYARD_SMTP_")
                    .only(&["host", "port", "security", "username", "password", "from"])
                    .map(|k| format!("notify.smtp.{}", k.as_str()).into()),
            )
            .merge(Serialized::defaults(flags))
            .extract()
            .context("invalid configuration")?;
        // The token is read raw: figment would turn "12345678901234567" into
        // a number (and an error message that prints it).
        match std::env::var("SWITCHYARD_API_TOKEN") {
            Ok(token) => settings.api_token = Some(token),
            Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("SWITCHYARD_API_TOKEN is not valid UTF-8"),
            Err(std::env::VarError::NotPresent) => {}
        }
        match std::env::var("SWITCHYARD_RETURN_CARRIER_API_KEY") {
            Ok(key) => settings.return_carrier_api_key = Some(CarrierKey(key)),
            Err(std::env::VarError::NotUnicode(_)) => {
                anyhow::bail!("SWITCHYARD_RETURN_CARRIER_API_KEY is not valid UTF-8")
            }
            Err(std::env::VarError::NotPresent) => {}
        }
        let url = settings.return_carrier_url.as_deref().unwrap_or("");
        anyhow::ensure!(
            settings.return_carrier_url.is_some() == settings.return_carrier_api_key.is_some(),
            "return_carrier_url and return_carrier_api_key go together: set both or neither"
        );
        anyhow::ensure!(
            url.is_empty() || url.starts_with("https://") || url.starts_with("http://"),
            "return_carrier_url must be an http:// or https:// URL"
        );
        anyhow::ensure!(settings.reservation_ttl_secs > 0, "reservation_ttl_secs must be positive");
        anyhow::ensure!(settings.body_limit_bytes >= 1024, "body_limit_bytes must be at least 1024");
        anyhow::ensure!(settings.write_queue >= 1, "write_queue must be at least 1");
        anyhow::ensure!((1..=10_000).contains(&settings.max_batch), "max_batch must be between 1 and 10000");
        anyhow::ensure!((1..=20).contains(&settings.pg_writers), "pg_writers must be between 1 and 20");
        anyhow::ensure!(settings.max_connections >= 1, "max_connections must be at least 1");
        anyhow::ensure!(settings.header_timeout_secs >= 1, "header_timeout_secs must be at least 1");
        anyhow::ensure!(settings.request_timeout_secs >= 1, "request_timeout_secs must be at least 1");
        anyhow::ensure!(settings.max_auth_failures >= 1, "max_auth_failures must be at least 1");
        anyhow::ensure!(settings.auth_failure_window_secs >= 1, "auth_failure_window_secs must be at least 1");
        anyhow::ensure!(settings.session_ttl_secs >= 60, "session_ttl_secs must be at least 60");
        Ok(settings)
    }
}

/// `api_token` from a file must be a quoted string; the error for anything
/// else names the setting, never the value.
fn token_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a quoted string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(E::custom("api_token must be a quoted string"))
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(E::custom("api_token must be a quoted string"))
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(E::custom("api_token must be a quoted string"))
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom("api_token must be a quoted string"))
        }
    }
    d.deserialize_option(V)
}

/// 32 random bytes, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
