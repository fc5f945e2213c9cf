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
    /// The admin token; generated and printed at start when unset.
    #[serde(skip_serializing)]
    pub api_token: Option<String>,
    pub reservation_ttl_secs: u64,
    pub expired_action: ExpiredAction,
    pub sweep_interval_ms: u64,
    pub body_limit_bytes: usize,
    pub secure_cookies: bool,
    /// Writes that may wait for the writer before new ones get 503.
    pub write_queue: usize,
    /// The most writes one SQLite commit carries.
    pub max_batch: usize,
    /// PostgreSQL: writes run at once, each on its own connection.
    pub pg_writers: usize,
    /// tracing filter, e.g. `info` or `switchyard=debug`.
    pub log: String,
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
            body_limit_bytes: 1024 * 1024,
            secure_cookies: false,
            write_queue: 4096,
            max_batch: 256,
            pg_writers: 12,
            log: "info".into(),
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
const KEYS: [&str; 12] = [
    "db",
    "listen",
    "api_token",
    "reservation_ttl_secs",
    "expired_action",
    "sweep_interval_ms",
    "body_limit_bytes",
    "secure_cookies",
    "write_queue",
    "max_batch",
    "pg_writers",
    "log",
];

impl Settings {
    pub fn load(file: Option<&Path>, flags: Overrides) -> anyhow::Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.exists(), "config file {} does not exist", file.display());
            fig = fig.merge(Toml::file(file));
        }
        let settings: Settings = fig
            .merge(Env::prefixed("SWITCHYARD_").only(&KEYS))
            .merge(Serialized::defaults(flags))
            .extract()
            .context("invalid configuration")?;
        anyhow::ensure!(settings.reservation_ttl_secs > 0, "reservation_ttl_secs must be positive");
        anyhow::ensure!(settings.body_limit_bytes >= 1024, "body_limit_bytes must be at least 1024");
        anyhow::ensure!(settings.write_queue >= 1, "write_queue must be at least 1");
        anyhow::ensure!((1..=10_000).contains(&settings.max_batch), "max_batch must be between 1 and 10000");
        anyhow::ensure!((1..=20).contains(&settings.pg_writers), "pg_writers must be between 1 and 20");
        Ok(settings)
    }
}

/// 32 random bytes, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
