//! `switchyard channel parse <kind> <file>`: the canonical order (JSON, the
//! shape of a `POST /api/v1/orders` body plus `status` and `fulfilled_by`)
//! that a channel's payload becomes, or exactly why it is refused — by the
//! channel's parser or by the core's intake rules the server applies.

use std::process::ExitCode;

use clap::Subcommand;
use switchyard_channels::Kind;
use switchyard_core::NewOrder;

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
}

pub fn run(cmd: ChannelCommand) -> anyhow::Result<ExitCode> {
    let ChannelCommand::Parse { kind, file } = cmd;
    let Some(kind) = Kind::parse(&kind).filter(|k| *k != Kind::Api) else {
        let kinds: Vec<&str> = Kind::ALL.iter().filter(|k| **k != Kind::Api).map(|k| k.as_str()).collect();
        eprintln!("error: unknown channel kind {kind:?}; one of {}", kinds.join(", "));
        return Ok(ExitCode::from(2));
    };
    let payload = match std::fs::read(&file) {
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
