//! The simulator's input files, read whole and checked before anything
//! runs: the order history, the starting stock and the receipts. A row that
//! cannot be read refuses the file with its line number (`line 7: quantity
//! "x" is not a number`); a SKU or location the shop does not know is not an
//! error: the row (for the history, its whole order) is left out and
//! counted in [`Unknowns`].

use std::collections::BTreeMap;
use std::io::Read;

use switchyard_core::routing::Destination;
use switchyard_core::simulate::{Catalogue, Line, Order, Receipt};
use switchyard_core::{
    ChannelName, Currency, ExternalOrderId, LocationCode, Money, Position, Quantity, ServiceLevel, Sku,
};

/// The history's columns; `region`, `lat`, `lon` and `pickup_location` may
/// be added.
const HISTORY_COLUMNS: [&str; 10] = [
    "created_at",
    "channel",
    "external_id",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "postal_code",
    "country",
    "service_level",
];
const RECEIPT_COLUMNS: [&str; 4] = ["received_at", "sku", "location", "quantity"];

/// What the files named that the shop's database does not know, by code:
/// the rows left out because of it.
#[derive(Debug, Default)]
pub struct Unknowns {
    pub skus: BTreeMap<String, u64>,
    pub locations: BTreeMap<String, u64>,
}

/// The history as read: the orders to replay and what was left out.
#[derive(Debug, Default)]
pub struct HistoryFile {
    pub rows: u64,
    pub orders: Vec<Order>,
    /// Orders left out: a SKU or pickup location the shop does not know.
    pub skipped_orders: u64,
}

/// A CSV file's rows with their header's column positions.
struct Table {
    reader: csv::Reader<Box<dyn Read>>,
    columns: BTreeMap<String, usize>,
}

impl Table {
    fn open(reader: Box<dyn Read>, required: &[&str]) -> Result<Table, String> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(reader);
        let headers = reader.headers().map_err(|e| format!("line 1: cannot read the header: {e}"))?;
        let columns: BTreeMap<String, usize> =
            headers.iter().enumerate().map(|(i, h)| (h.to_ascii_lowercase(), i)).collect();
        let missing: Vec<&str> = required.iter().copied().filter(|c| !columns.contains_key(*c)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "line 1: the header must name the columns {} (missing: {})",
                required.join(","),
                missing.join(", ")
            ));
        }
        Ok(Table { reader, columns })
    }

    /// Each row with its 1-based line number (the header is line 1).
    fn rows(&mut self, mut each: impl FnMut(usize, &Row<'_>) -> Result<(), String>) -> Result<(), String> {
        let mut record = csv::StringRecord::new();
        let mut index = 0_usize;
        loop {
            let line = index + 2;
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) => return Err(format!("line {line}: {e}")),
            }
            // A quoted field may span lines: the reader knows where the row began.
            let line = record.position().map_or(line, |p| usize::try_from(p.line()).unwrap_or(line));
            each(line, &Row { record: &record, columns: &self.columns, line })?;
            index += 1;
        }
    }
}

struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a BTreeMap<String, usize>,
    line: usize,
}

impl Row<'_> {
    /// The field of a column, `""` when the header has no such column.
    fn get(&self, column: &str) -> &str {
        self.columns.get(column).and_then(|i| self.record.get(*i)).unwrap_or("")
    }

    fn fail(&self, message: impl std::fmt::Display) -> String {
        format!("line {}: {message}", self.line)
    }

    fn time(&self, column: &str) -> Result<i64, String> {
        parse_time(self.get(column)).ok_or_else(|| {
            self.fail(format_args!(
                "{column} {:?} is not a time like 2026-03-01T14:30:00Z (RFC 3339) or a date like 2026-03-01",
                self.get(column)
            ))
        })
    }

    fn quantity(&self) -> Result<i64, String> {
        let raw = self.get("quantity");
        let n: i64 = raw.parse().map_err(|_| self.fail(format_args!("quantity {raw:?} is not a number")))?;
        Quantity::new(n).map_err(|e| self.fail(format_args!("quantity {raw:?}: {e}")))?;
        Ok(n)
    }

    fn sku(&self) -> Result<Sku, String> {
        let raw = self.get("sku");
        Sku::parse(raw).map_err(|e| self.fail(format_args!("sku {raw:?}: {e}")))
    }

    fn location(&self, column: &str) -> Result<LocationCode, String> {
        let raw = self.get(column);
        LocationCode::parse(raw).map_err(|e| self.fail(format_args!("{column} {raw:?}: {e}")))
    }

    fn coordinate(&self, column: &str) -> Result<Option<f64>, String> {
        let raw = self.get(column);
        if raw.is_empty() {
            return Ok(None);
        }
        let value: f64 = raw.parse().map_err(|_| self.fail(format_args!("{column} {raw:?} is not a number")))?;
        if !value.is_finite() {
            return Err(self.fail(format_args!("{column} {raw:?} is not a number")));
        }
        Ok(Some(value))
    }
}

/// RFC 3339, or a bare date (midnight UTC), in milliseconds since the epoch.
pub fn parse_time(raw: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.timestamp_millis());
    }
    let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The fields every row of one order repeats.
#[derive(Debug, Clone, PartialEq)]
struct OrderFields {
    at_ms: i64,
    currency: Currency,
    level: ServiceLevel,
    ship_to: Destination,
    pickup_location: Option<LocationCode>,
}

struct OrderDraft {
    line: usize,
    channel: ChannelName,
    external_id: ExternalOrderId,
    fields: OrderFields,
    value: i64,
    lines: Vec<(Sku, i64)>,
}

/// Reads the order history: one row per order line, the rows of an order
/// sharing `channel,external_id` (and its time, currency and ship-to).
pub fn read_history(
    reader: Box<dyn Read>,
    catalogue: &Catalogue,
    unknowns: &mut Unknowns,
) -> Result<HistoryFile, String> {
    let mut table = Table::open(reader, &HISTORY_COLUMNS)?;
    let mut drafts: Vec<OrderDraft> = Vec::new();
    let mut by_key: BTreeMap<(ChannelName, ExternalOrderId), usize> = BTreeMap::new();
    let mut rows = 0_u64;
    table.rows(|line, row| {
        rows += 1;
        let channel = ChannelName::parse(row.get("channel"))
            .map_err(|e| row.fail(format_args!("channel {:?}: {e}", row.get("channel"))))?;
        let external_id = ExternalOrderId::parse(row.get("external_id"))
            .map_err(|e| row.fail(format_args!("external_id {:?}: {e}", row.get("external_id"))))?;
        let fields = order_fields(row)?;
        let sku = row.sku()?;
        let quantity = row.quantity()?;
        let price = switchyard_channels::decimal_minor(row.get("unit_price"), fields.currency.exponent())
            .map_err(|e| row.fail(format_args!("unit_price {e}")))?;
        let amount = price.checked_mul(quantity).ok_or_else(|| row.fail("quantity × unit_price is too large"))?;
        let key = (channel, external_id);
        let draft = match by_key.get(&key) {
            Some(&index) => {
                let draft = &mut drafts[index];
                if let Some(field) = first_difference(&draft.fields, &fields) {
                    return Err(row.fail(format_args!(
                        "{field} differs from line {} of order {}/{} (the rows of one order share created_at, \
                         currency, service_level and the ship-to address)",
                        draft.line, draft.channel, draft.external_id
                    )));
                }
                draft
            }
            None => {
                by_key.insert(key.clone(), drafts.len());
                let (channel, external_id) = key;
                drafts.push(OrderDraft { line, channel, external_id, fields, value: 0, lines: Vec::new() });
                let last = drafts.len() - 1;
                &mut drafts[last]
            }
        };
        draft.value = draft.value.checked_add(amount).ok_or_else(|| row.fail("the order's value is too large"))?;
        draft.lines.push((sku, quantity));
        Ok(())
    })?;
    let mut file = HistoryFile { rows, ..HistoryFile::default() };
    for draft in drafts {
        match known_order(draft, catalogue, unknowns) {
            Some(order) => file.orders.push(order),
            None => file.skipped_orders += 1,
        }
    }
    Ok(file)
}

fn order_fields(row: &Row<'_>) -> Result<OrderFields, String> {
    let at_ms = row.time("created_at")?;
    let currency = Currency::parse(row.get("currency"))
        .map_err(|e| row.fail(format_args!("currency {:?}: {e}", row.get("currency"))))?;
    let level = match row.get("service_level") {
        "" => ServiceLevel::Standard,
        raw => ServiceLevel::parse(raw).ok_or_else(|| {
            row.fail(format_args!("service_level {raw:?} is not one of standard, expedited, same_day, pickup"))
        })?,
    };
    let (lat, lon) = (row.coordinate("lat")?, row.coordinate("lon")?);
    if lat.is_some() != lon.is_some() {
        return Err(row.fail("lat and lon go together: give both or neither"));
    }
    let pickup_location = match row.get("pickup_location") {
        "" => None,
        _ => Some(row.location("pickup_location")?),
    };
    Ok(OrderFields {
        at_ms,
        currency,
        level,
        ship_to: Destination {
            lat,
            lon,
            postal_code: row.get("postal_code").to_owned(),
            region: row.get("region").to_owned(),
            country: row.get("country").to_owned(),
        },
        pickup_location,
    })
}

/// The first field two rows of one order disagree on.
fn first_difference(a: &OrderFields, b: &OrderFields) -> Option<&'static str> {
    if a.at_ms != b.at_ms {
        Some("created_at")
    } else if a.currency != b.currency {
        Some("currency")
    } else if a.level != b.level {
        Some("service_level")
    } else if a.pickup_location != b.pickup_location {
        Some("pickup_location")
    } else if a.ship_to != b.ship_to {
        Some("the ship-to address (postal_code, country, region, lat, lon)")
    } else {
        None
    }
}

/// The order with its SKUs resolved, or `None` (counted in `unknowns`) when
/// it names a SKU or pickup location the shop does not know: live traffic
/// would not route it either.
fn known_order(draft: OrderDraft, catalogue: &Catalogue, unknowns: &mut Unknowns) -> Option<Order> {
    let mut known = true;
    let mut lines = Vec::with_capacity(draft.lines.len());
    for (sku, quantity) in &draft.lines {
        match catalogue.sku_index(sku) {
            Some(index) => lines.push(Line { sku: index, quantity: *quantity }),
            None => {
                *unknowns.skus.entry(sku.to_string()).or_default() += 1;
                known = false;
            }
        }
    }
    if let Some(pickup) = &draft.fields.pickup_location {
        if catalogue.location_index(pickup).is_none() {
            *unknowns.locations.entry(pickup.to_string()).or_default() += 1;
            known = false;
        }
    }
    known.then(|| Order {
        at_ms: draft.fields.at_ms,
        channel: draft.channel,
        external_id: draft.external_id,
        service_level: draft.fields.level,
        ship_to: draft.fields.ship_to,
        pickup_location: draft.fields.pickup_location,
        value: Money::new(draft.value, draft.fields.currency),
        lines,
    })
}

/// The starting stock from an import-format file (see `stockfile`): every
/// position the simulation starts with. A row without `safety_stock` keeps
/// the database's safety stock for that position (0 if it has none).
pub fn read_stock(
    reader: Box<dyn Read>,
    catalogue: &Catalogue,
    current: &BTreeMap<(Sku, LocationCode), Position>,
    unknowns: &mut Unknowns,
) -> Result<BTreeMap<(Sku, LocationCode), Position>, String> {
    let rows = switchyard_server::stock_csv::parse_rows(std::io::BufReader::new(reader), || {})?;
    let mut stock = BTreeMap::new();
    for (index, row) in rows.into_iter().enumerate() {
        let line = index + 2;
        if !known_position(&row.sku, &row.location, line, catalogue, unknowns)? {
            continue;
        }
        let key = (row.sku, row.location);
        let safety_stock = row.safety_stock.unwrap_or_else(|| current.get(&key).map_or(0, |p| p.safety_stock));
        stock.insert(key, Position { on_hand: row.on_hand, reserved: 0, safety_stock });
    }
    Ok(stock)
}

/// Reads the receipts: `received_at,sku,location,quantity`.
pub fn read_receipts(
    reader: Box<dyn Read>,
    catalogue: &Catalogue,
    unknowns: &mut Unknowns,
) -> Result<Vec<Receipt>, String> {
    let mut table = Table::open(reader, &RECEIPT_COLUMNS)?;
    let mut receipts = Vec::new();
    table.rows(|line, row| {
        let at_ms = row.time("received_at")?;
        let sku = row.sku()?;
        let location = row.location("location")?;
        let quantity = row.quantity()?;
        if known_position(&sku, &location, line, catalogue, unknowns)? {
            receipts.push(Receipt { at_ms, sku, location, quantity });
        }
        Ok(())
    })?;
    Ok(receipts)
}

/// Whether a stock row's SKU and location are the shop's (else counted and
/// left out); a bundle is refused: it holds no stock of its own.
fn known_position(
    sku: &Sku,
    location: &LocationCode,
    line: usize,
    catalogue: &Catalogue,
    unknowns: &mut Unknowns,
) -> Result<bool, String> {
    let known_sku = catalogue.sku_index(sku).and_then(|i| catalogue.sku(i));
    if known_sku.is_some_and(|s| s.is_bundle()) {
        return Err(format!("line {line}: {sku} is a bundle, which holds no stock: list its components instead"));
    }
    let known_location = catalogue.location_index(location).is_some();
    if known_sku.is_none() {
        *unknowns.skus.entry(sku.to_string()).or_default() += 1;
    }
    if !known_location {
        *unknowns.locations.entry(location.to_string()).or_default() += 1;
    }
    Ok(known_sku.is_some() && known_location)
}
