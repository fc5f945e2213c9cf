//! The stock file: SKUs and counts as CSV, as `switchyard import` reads a
//! file and the dashboard's import page reads a paste. One parser, so both
//! accept the same files and report a bad row the same way.
//!
//! The header names the columns `sku`, `location` and `on_hand` (any order,
//! any case), and optionally `title` and `safety_stock`; fields are trimmed.
//! The whole text is read and checked before anything is applied, and an
//! error names its 1-based line (the header is line 1).

use switchyard_core::ImportRow;
use switchyard_engine::Error;

/// Parses the CSV text into rows, calling `on_row` after each (a progress
/// bar); errors carry the 1-based line number.
pub fn parse_rows(reader: impl std::io::Read, mut on_row: impl FnMut()) -> Result<Vec<ImportRow>, String> {
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
        on_row();
    }
    Ok(rows)
}

/// The import's refusal of one row as "line N: why", for an error the
/// person can fix (an unknown location, a SKU that is a bundle); `None` for
/// anything else (the store failing), which is not theirs to fix.
pub fn row_error(e: &Error) -> Option<String> {
    match e {
        Error::Row { index, source } if !source.is_internal() => Some(format!("line {}: {source}", index + 2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<ImportRow>, String> {
        parse_rows(text.as_bytes(), || {})
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

    #[test]
    fn the_progress_callback_sees_every_row() {
        let mut seen = 0;
        parse_rows("sku,location,on_hand\nA,WH,1\nB,WH,2\n".as_bytes(), || seen += 1).expect("ok");
        assert_eq!(seen, 2);
    }
}
