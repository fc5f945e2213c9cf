//! `switchyard import` and `switchyard export`: stock positions as CSV.
//!
//! Import reads and checks the whole file first (the server's
//! `stock_csv` parser, which the dashboard's import page uses too), reporting
//! a bad row by its line number; then applies every row in ONE transaction, so
//! a file is never half-applied.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use switchyard_server::stock_csv::{parse_rows, row_error};

use crate::settings::Settings;

pub async fn import(settings: &Settings, file: &Path) -> anyhow::Result<ExitCode> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = if size > 256 * 1024 { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} rows").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    progress.set_message("reading");
    let rows = match parse_rows(std::io::BufReader::new(f), || progress.inc(1)) {
        Ok(rows) => rows,
        Err(e) => {
            progress.finish_and_clear();
            eprintln!("{}: {e}", file.display());
            eprintln!("nothing was imported");
            return Ok(ExitCode::from(1));
        }
    };
    progress.set_message("applying");
    let engine = settings.open_engine().await?;
    let count = rows.len();
    let result = engine.import_stock(rows).await;
    progress.finish_and_clear();
    match result {
        Ok(summary) => {
            println!(
                "imported {} row(s): {} new SKU(s), {} position(s) set",
                count, summary.skus_created, summary.positions_set
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => match row_error(&e) {
            Some(line_error) => {
                eprintln!("{}: {line_error}", file.display());
                eprintln!("nothing was imported");
                Ok(ExitCode::from(1))
            }
            None => Err(e.into()),
        },
    }
}

pub async fn export(settings: &Settings, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let engine = settings.open_engine().await?;
    let rows = engine.all_positions().await?;
    let sink: Box<dyn Write> = match out {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = csv::Writer::from_writer(sink);
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}
