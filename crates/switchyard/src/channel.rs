//! `switchyard channel …`: connections from the command line.
//! - `parse <kind> <file>`: the canonical order (JSON, the shape of a
//!   `POST /api/v1/orders` body plus `status` and `fulfilled_by`) that a
//!   channel's payload becomes, or exactly why it is refused — by the
//!   channel's parser or by the core's intake rules the server applies.
//! - `connect <name> <file>`: create or replace a connection from the JSON
//!   body `PUT /api/v1/channels/{name}` takes (credentials in a file, never
//!   on the command line where `ps` and shell history would keep them).
//! - `list`, `map <name> <channel_sku> <sku>`, `test <name>`.

use std::process::ExitCode;

use clap::Subcommand;
use switchyard_channels::Kind;
use switchyard_core::{ChannelName, NewOrder, Sku};
use switchyard_engine::{ChannelSync, SyncOptions};

use crate::settings::{Overrides, Settings};

#[derive(Subcommand)]
pub enum ChannelCommand {
    /// Print the canonical order a payload becomes (a list when the payload
    /// holds several), or why it is refused (exit 1).
    Parse {
        /// shopify, woocommerce, amazon, etsy, ebay, pos or wholesale.
        kind: String,
        /// The payload: a webhook body or API response (JSON), or a CSV.
        file: std::path::PathBuf,
    },
    /// Create or replace a connection from a JSON file holding the body of
    /// `PUT /api/v1/channels/{name}` (kind, mode, settings, credentials, …).
    Connect {
        #[arg(long)]
        db: Option<String>,
        /// The connection's name (lowercase, e.g. `shopify`).
        name: String,
        file: std::path::PathBuf,
    },
    /// List the connections (never their secrets).
    List {
        #[arg(long)]
        db: Option<String>,
    },
    /// Map a channel's SKU (or `variant:<id>`, `asin:<ASIN>`, …) to ours;
    /// orders held for it go on.
    Map {
        #[arg(long)]
        db: Option<String>,
        name: String,
        channel_sku: String,
        sku: String,
        /// The platform's listing id where it needs one to set stock
        /// (Shopify inventory item, WooCommerce product, Etsy listing).
        #[arg(long)]
        listing: Option<String>,
    },
    /// Test a connection: a token refresh where the platform has one, then
    /// one cheap authenticated read (exit 1 when it fails).
    Test {
        #[arg(long)]
        db: Option<String>,
        name: String,
    },
}

impl ChannelCommand {
    /// The database the command works on, when it needs one.
    pub fn db(&self) -> Option<&str> {
        match self {
            ChannelCommand::Parse { .. } => None,
            ChannelCommand::Connect { db, .. }
            | ChannelCommand::List { db }
            | ChannelCommand::Map { db, .. }
            | ChannelCommand::Test { db, .. } => db.as_deref(),
        }
    }
}

fn name_of(raw: &str) -> Result<ChannelName, ExitCode> {
    ChannelName::parse(raw).map_err(|e| {
        eprintln!("error: channel name {raw:?}: {e}");
        ExitCode::from(2)
    })
}

/// Runs a command that works on the database.
pub async fn run_on_db(cmd: ChannelCommand, config: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(config, Overrides { db: cmd.db().map(str::to_owned), listen: None })?;
    let engine = std::sync::Arc::new(settings.open_engine().await?);
    match cmd {
        ChannelCommand::Parse { kind, file } => parse(&kind, &file),
        ChannelCommand::Connect { name, file, .. } => {
            let json = match std::fs::read(&file) {
                Ok(j) => j,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", file.display());
                    return Ok(ExitCode::from(1));
                }
            };
            let (channel, secret, credentials) = match switchyard_server::connection_from_json(&name, &json) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return Ok(ExitCode::from(1));
                }
            };
            if let Err(e) = engine.put_connection(&channel, secret, credentials).await {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(1));
            }
            println!(
                "channel {}: {} ({}{}); webhook endpoint /hooks/{}",
                channel.name,
                channel.kind.as_str(),
                channel.mode.as_str(),
                if channel.active { "" } else { ", inactive" },
                channel.name
            );
            Ok(ExitCode::SUCCESS)
        }
        ChannelCommand::List { .. } => {
            for c in engine.list_channels().await? {
                let state = if c.active { "" } else { " inactive" };
                println!("{}\t{}\t{}{state}", c.name, c.kind.as_str(), c.mode.as_str());
            }
            Ok(ExitCode::SUCCESS)
        }
        ChannelCommand::Map { name, channel_sku, sku, listing, .. } => {
            let name = match name_of(&name) {
                Ok(n) => n,
                Err(code) => return Ok(code),
            };
            let Ok(ours) = Sku::parse(&sku) else {
                eprintln!("error: {sku:?} is not a SKU");
                return Ok(ExitCode::from(2));
            };
            match engine.map_channel_sku(&name, &channel_sku, &ours, listing.as_deref()).await {
                Ok(()) => {
                    println!("{name}: {channel_sku:?} → {ours}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        ChannelCommand::Test { name, .. } => {
            let name = match name_of(&name) {
                Ok(n) => n,
                Err(code) => return Ok(code),
            };
            let check = match ChannelSync::new(engine, SyncOptions::default())?.check_connection(&name).await {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(1));
                }
            };
            let status = check.http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
            if check.ok {
                println!("ok: {}{status}", check.message);
                Ok(ExitCode::SUCCESS)
            } else {
                println!("failed at the {} step{status}: {}", check.step, check.message);
                Ok(ExitCode::from(1))
            }
        }
    }
}

/// `channel parse`: needs no database.
pub fn parse(kind: &str, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let Some(kind) = Kind::parse(kind).filter(|k| *k != Kind::Api) else {
        let kinds: Vec<&str> = Kind::ALL.iter().filter(|k| **k != Kind::Api).map(|k| k.as_str()).collect();
        eprintln!("error: unknown channel kind {kind:?}; one of {}", kinds.join(", "));
        return Ok(ExitCode::from(2));
    };
    let payload = match std::fs::read(file) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return Ok(ExitCode::from(1));
        }
    };
    let orders = match switchyard_channels::parse(kind, &payload) {
        Ok(orders) => orders,
        Err(e) => {
            eprintln!("refused: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    for o in &orders {
        if let Err(e) = NewOrder::parse(o.to_draft(&o.channel)) {
            eprintln!("refused: {kind}: order {}: {e}", o.external_id, kind = kind.as_str());
            return Ok(ExitCode::from(1));
        }
    }
    let json = match orders.as_slice() {
        [one] => serde_json::to_string_pretty(one)?,
        many => serde_json::to_string_pretty(many)?,
    };
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}
