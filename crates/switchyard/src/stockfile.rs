//! `switchyard import` and `switchyard export`: stock positions as CSV.
//!
//! Import reads and checks the whole file first, reporting a bad row by its
//! line number; then applies every row in ONE transaction, so a file is never
//! half-applied.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use switchyard_core::ImportRow;
use switchyard_engine::Error;

use crate::settings::Settings;

/// Parses the CSV text into rows; errors carry the 1-based line number.
pub fn parse_rows(reader: impl std::io::Read, progress: &ProgressBar) -> Result<Vec<ImportRow>, String> {
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(reader);
    let headers = csv.headers().map_err(|e| format!("line 1: cannot read the header: {e}"))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(sku_i), Some(loc_i), Some(on_hand_i)) = (col("sku"), col("location"), col("on_hand")) else {
        return Err(
            "line 1: the header must name the columns sku, location and on_hand (title and safety_stock are optional)"
                .into(),
        );
    };
    let (title_i, safety_i) = (col("title"), col("safety_stock"));
    let mut rows = Vec::new();
    for (i, record) in csv.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let field = |idx: usize| record.get(idx).unwrap_or("");
        let on_hand: i64 = field(on_hand_i)
            .parse()
            .map_err(|_| format!("line {line}: on_hand {:?} is not a whole number", field(on_hand_i)))?;
        if on_hand < 0 {
            return Err(format!("line {line}: on_hand must not be negative (got {on_hand})"));
        }
        let safety_stock = match safety_i.map(field).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(
                raw.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| format!("line {line}: safety_stock {raw:?} is not a non-negative whole number"))?,
            ),
        };
        let title = title_i.map(|i| field(i).to_owned());
        let row = ImportRow::parse(field(sku_i), title, field(loc_i), on_hand, safety_stock)
            .map_err(|e| format!("line {line}: {e}"))?;
        rows.push(row);
        progress.inc(1);
    }
    Ok(rows)
}

pub async fn import(settings: &Settings, file: &Path) -> anyhow::Result<ExitCode> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = if size > 256 * 1024 { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} rows").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    progress.set_message("reading");
    let rows = match parse_rows(std::io::BufReader::new(f), &progress) {
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
        Err(Error::Row { index, source }) if !source.is_internal() => {
            eprintln!("{}: line {}: {source}", file.display(), index + 2);
            eprintln!("nothing was imported");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<ImportRow>, String> {
        parse_rows(text.as_bytes(), &ProgressBar::hidden())
    }

    #[test]
    fn reads_rows_with_optional_columns() {
        let rows = parse("sku,title,location,on_hand,safety_stock\nTEE,Tee,WH,5,\nMUG,,WH,3,1\n").expect("ok");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].safety_stock, None);
        assert_eq!(rows[1].title, "MUG");
        assert_eq!(rows[1].safety_stock, Some(1));
    }

    #[test]
    fn bad_rows_name_their_line() {
        assert_eq!(
            parse("sku,location,on_hand\nA,WH,1\nB,WH,-2\n").err().as_deref(),
            Some("line 3: on_hand must not be negative (got -2)")
        );
        assert!(parse("sku,location,on_hand\nA,WH,x\n").err().is_some_and(|e| e.starts_with("line 2:")));
        assert!(parse("sku,location,on_hand\nA B,WH,1\n").err().is_some_and(|e| e.starts_with("line 2:")));
        assert!(parse("sku,location\nA,WH\n").err().is_some_and(|e| e.starts_with("line 1:")));
        assert!(parse("sku,location,on_hand\nA,WH,1,9\n").err().is_some_and(|e| e.starts_with("line 2:")));
    }
}
