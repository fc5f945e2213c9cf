//! `switchyard simulate`: replays an order history against one or more
//! routing policies before one is activated (issue 10).
//!
//! This module only reads: the policy files, the CSV files (`files`), and
//! the shop's locations, SKUs and stock from the database, opened read-only
//! (`Db::open_read_only`: no migrations, nothing written, so the file's bytes
//! never change). The replay itself is `switchyard_core::simulate`, which
//! decides every order with `routing::route`, the function live traffic
//! uses; `output` prints. Each policy replays on a thread of its own, from
//! the same starting stock. Nothing here reads the clock and every list is
//! sorted, so the same inputs print the same bytes.
//!
//! Exit codes: 0 after a run; 1 when an input is refused (a CSV row, a
//! policy, a database that does not exist), with the reason on stderr and
//! nothing on stdout; 2 for a usage error (clap).

mod files;
mod output;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use switchyard_core::routing::Policy;
use switchyard_core::simulate::{simulate, Catalogue, History, LocalDays, PolicyResult};
use switchyard_core::{Location, LocationCode, Position, Sku, SkuDef};
use switchyard_store::{catalog, views, Db};

use crate::settings::Settings;

#[derive(Args)]
pub struct SimulateArgs {
    /// The shop's database (SQLite file or postgres:// URL): its locations,
    /// SKUs and, without --stock, the starting stock. Opened read-only.
    #[arg(long)]
    pub db: Option<String>,
    /// The orders to replay, one row per order line (CSV; see the README).
    #[arg(long)]
    history: PathBuf,
    /// The starting stock, in the `import` format (sku,title,location,on_hand[,safety_stock]);
    /// without it, the database's current stock.
    #[arg(long)]
    stock: Option<PathBuf>,
    /// Stock arriving during the history: received_at,sku,location,quantity.
    #[arg(long)]
    receipts: Option<PathBuf>,
    /// A routing policy file (TOML); repeat to compare several. The first is the baseline.
    #[arg(long = "policy", required = true)]
    policies: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write each order's decision under each policy to this CSV file.
    #[arg(long)]
    decisions: Option<PathBuf>,
}

/// What the database says about the shop.
struct Shop {
    locations: Vec<Location>,
    skus: Vec<SkuDef>,
    stock: BTreeMap<(Sku, LocationCode), Position>,
}

/// Everything a run is made of, read and checked.
pub(crate) struct Inputs {
    pub policies: Vec<(String, Policy)>,
    pub catalogue: Catalogue,
    pub history: History,
    pub history_rows: u64,
    pub skipped_orders: u64,
    pub unknowns: files::Unknowns,
    pub stock: BTreeMap<(Sku, LocationCode), Position>,
    pub timezones: Vec<String>,
}

pub async fn run(args: SimulateArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let shop = match read_shop(&settings.db).await? {
        Ok(shop) => shop,
        Err(refusal) => return Ok(refuse(&refusal)),
    };
    let inputs = match read_inputs(&args, shop) {
        Ok(inputs) => inputs,
        Err(refusal) => return Ok(refuse(&refusal)),
    };
    let results = replay_all(&inputs, args.decisions.is_some());
    if let Some(path) = &args.decisions {
        output::write_decisions(path, &inputs, &results)?;
    }
    let text = if args.json { output::json(&inputs, &results)? } else { output::table(&inputs, &results) };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn refuse(reason: &str) -> ExitCode {
    eprintln!("{reason}");
    eprintln!("nothing was simulated");
    ExitCode::from(1)
}

/// The shop from the database, opened read-only; `Ok(Err(..))` when there
/// is no such database (refused input, not a failure).
async fn read_shop(db: &str) -> anyhow::Result<Result<Shop, String>> {
    let is_url = db.starts_with("postgres://") || db.starts_with("postgresql://");
    let path = db.strip_prefix("sqlite://").unwrap_or(db);
    if !is_url && !Path::new(path).is_file() {
        return Ok(Err(format!("no such database: {path}")));
    }
    let store = Db::open_read_only(db).await.with_context(|| format!("opening {path} read-only"))?;
    let mut tx = store.snapshot().await?;
    let read = async {
        let locations = catalog::list_locations(&mut tx).await?;
        let skus = catalog::list_skus(&mut tx).await?;
        let rows = views::all_positions(&mut tx).await?;
        anyhow::Ok((locations, skus, rows))
    }
    .await
    .with_context(|| format!("reading the shop from {path} (is it a Switchyard database?)"))?;
    tx.rollback().await?;
    let (locations, skus, rows) = read;
    let mut stock = BTreeMap::new();
    for row in rows {
        let key = (Sku::parse(&row.sku)?, LocationCode::parse(&row.location)?);
        stock.insert(key, Position { on_hand: row.on_hand, reserved: row.reserved, safety_stock: row.safety_stock });
    }
    Ok(Ok(Shop { locations, skus, stock }))
}

fn open(path: &Path) -> Result<Box<dyn Read>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
}

/// Reads and checks every input file; `Err` is the refusal to print.
fn read_inputs(args: &SimulateArgs, shop: Shop) -> Result<Inputs, String> {
    let catalogue = Catalogue::new(&shop.locations, &shop.skus);
    let codes: Vec<LocationCode> = shop.locations.iter().map(|l| l.code.clone()).collect();
    let tags = catalogue.tags();
    let mut policies = Vec::new();
    for path in &args.policies {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let policy =
            Policy::from_toml_validated(&text, &codes, &tags).map_err(|e| format!("{}: {e}", path.display()))?;
        policies.push((path.display().to_string(), policy));
    }
    let mut unknowns = files::Unknowns::default();
    let history =
        files::read_history(open(&args.history)?, &catalogue, &mut unknowns).map_err(|e| at(&args.history, &e))?;
    let stock = match &args.stock {
        Some(path) => {
            files::read_stock(open(path)?, &catalogue, &shop.stock, &mut unknowns).map_err(|e| at(path, &e))?
        }
        None => shop.stock,
    };
    let receipts = match &args.receipts {
        Some(path) => files::read_receipts(open(path)?, &catalogue, &mut unknowns).map_err(|e| at(path, &e))?,
        None => Vec::new(),
    };
    Ok(Inputs {
        policies,
        timezones: shop.locations.iter().map(|l| l.timezone.clone()).collect(),
        catalogue,
        history_rows: history.rows,
        skipped_orders: history.skipped_orders,
        history: History::new(history.orders, receipts),
        unknowns,
        stock,
    })
}

/// An error in a file, prefixed with the file.
fn at(path: &Path, error: &str) -> String {
    format!("{}: {error}", path.display())
}

/// Every policy over the history, each on its own thread.
fn replay_all(inputs: &Inputs, keep_fates: bool) -> Vec<PolicyResult> {
    let orders = inputs.history.orders().len();
    let total = u64::try_from(orders.saturating_mul(inputs.policies.len())).unwrap_or(u64::MAX);
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(total) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} decisions ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .policies
            .iter()
            .map(|(_, policy)| {
                let bar = bar.clone();
                scope.spawn(move || {
                    let mut days = ZoneDays::new(&inputs.timezones);
                    let mut reported = 0;
                    let mut progress = |done: usize| {
                        bar.inc(u64::try_from(done.saturating_sub(reported)).unwrap_or(0));
                        reported = done;
                    };
                    let stock = inputs.stock.clone();
                    simulate(&inputs.catalogue, &inputs.history, stock, policy, &mut days, keep_fates, &mut progress)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
    });
    bar.finish_and_clear();
    results.into_iter().map(|r| r.unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
}

/// Local days in each location's time zone. A zone's date can only change
/// on a quarter hour of UTC (every offset in use is a multiple of 15
/// minutes), so one lookup serves a whole quarter hour.
struct ZoneDays<'a> {
    timezones: &'a [String],
    /// Per location: (quarter hour, day) of the last lookup.
    last: Vec<Option<(i64, i64)>>,
}

const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;

impl<'a> ZoneDays<'a> {
    fn new(timezones: &'a [String]) -> Self {
        ZoneDays { timezones, last: vec![None; timezones.len()] }
    }
}

impl LocalDays for ZoneDays<'_> {
    fn day(&mut self, location: usize, at_ms: i64) -> i64 {
        let quarter = at_ms.div_euclid(QUARTER_HOUR_MS);
        if let Some(Some((q, day))) = self.last.get(location) {
            if *q == quarter {
                return *day;
            }
        }
        let tz = self.timezones.get(location).map_or("UTC", String::as_str);
        // `YYYY-MM-DD` → YYYYMMDD: equal numbers, same date.
        let date = switchyard_store::local_date(tz, at_ms);
        let day = date.replace('-', "").parse::<i64>().unwrap_or(i64::MIN);
        if let Some(slot) = self.last.get_mut(location) {
            *slot = Some((quarter, day));
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        files::parse_time(rfc3339).expect("time")
    }

    #[test]
    fn local_days_turn_at_each_zones_midnight_whatever_was_asked_before() {
        let zones = vec!["America/Los_Angeles".to_string(), "Asia/Kathmandu".to_string()];
        let mut days = ZoneDays::new(&zones);
        // Los Angeles (UTC−8 in November): the day turns at 08:00Z.
        let before = days.day(0, ms("2026-11-27T07:59:00Z"));
        assert_eq!(before, days.day(0, ms("2026-11-27T07:46:00Z")), "one quarter hour, one day");
        let after = days.day(0, ms("2026-11-27T08:00:00Z"));
        assert_eq!((before, after), (20261126, 20261127));
        // Kathmandu (UTC+5:45): midnight is 18:15Z, inside a UTC hour.
        assert_eq!(days.day(1, ms("2026-11-27T18:14:59Z")), 20261127);
        assert_eq!(days.day(1, ms("2026-11-27T18:15:00Z")), 20261128);
        // Going back in time is answered afresh.
        assert_eq!(days.day(1, ms("2026-11-27T18:00:00Z")), 20261127);
    }

    #[test]
    fn times_are_rfc_3339_or_a_date() {
        assert_eq!(files::parse_time("1970-01-02"), Some(86_400_000));
        assert_eq!(files::parse_time("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(files::parse_time("2026-03-02 09:00"), None);
        assert_eq!(files::parse_time(""), None);
    }
}
