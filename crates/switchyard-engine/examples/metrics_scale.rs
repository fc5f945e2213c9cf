//! Times `Engine::metrics` in process over a database with a year of orders
//! (seeded by `bench/metrics_seed.sql`, as `bench/metrics.sh` does; reuse its
//! file with `KEEP_DB`): per query, the first report (which computes and
//! saves the rollups it needs), the best and median of five more, and for
//! the whole year and the last 30 days the count from the orders alone (what
//! every report cost before the daily rollups), which the reports must equal.
//!
//!   cargo run --release -p switchyard-engine --example metrics_scale -- <db> [days]
//!
//! Times are milliseconds of the engine's system clock.

use std::sync::Arc;

use switchyard_core::metrics::{Metrics, Period, DAY_MS};
use switchyard_core::{ChannelName, LocationCode};
use switchyard_engine::{Clock, Config, Engine, Error, IdGen, MetricsQuery, SystemClock};

const RUNS: usize = 5;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let db = args.next().ok_or("usage: metrics_scale <db> [days]")?;
    let days: i64 = args.next().map_or(Ok(365), |d| d.parse())?;
    let clock = Arc::new(SystemClock);
    let e = Engine::open(&db, Config::default(), clock.clone(), IdGen::seeded(1)).await?;
    let now = clock.now_ms();
    let to = (Period::day_of(now) + 1) * DAY_MS;
    let year = Period::new(to - (days + 1) * DAY_MS, to)?;
    let month = Period::new(to - 31 * DAY_MS, to)?;
    let q = |period, channel: Option<&str>, location: Option<&str>| -> Result<MetricsQuery, Error> {
        Ok(MetricsQuery {
            period,
            channel: channel.map(ChannelName::parse).transpose()?,
            location: location.map(LocationCode::parse).transpose()?,
        })
    };
    let cases = [
        ("year", q(year, None, None)?),
        ("year, channel web", q(year, Some("web"), None)?),
        ("year, location L1", q(year, None, Some("L1"))?),
        ("year, web at L1", q(year, Some("web"), Some("L1"))?),
        ("30 days", q(month, None, None)?),
    ];
    for (i, (name, query)) in cases.iter().enumerate() {
        let t1 = clock.now_ms();
        let first = e.metrics(query).await?;
        let t2 = clock.now_ms();
        let mut times = Vec::new();
        let mut last: Option<Metrics> = None;
        for _ in 0..RUNS {
            let t = clock.now_ms();
            last = Some(e.metrics(query).await?);
            times.push(clock.now_ms() - t);
        }
        times.sort_unstable();
        println!(
            "{name:<20} orders {:>8}  first {:>7} ms  best {:>5} ms  median {:>5} ms",
            first.orders,
            t2 - t1,
            times[0],
            times[RUNS / 2]
        );
        if i == 0 || i == cases.len() - 1 {
            let t0 = clock.now_ms();
            let raw = e.metrics_from_orders(query).await?;
            let took = clock.now_ms() - t0;
            // Open exceptions are aged at each report's own now: those two
            // figures differ between reports made minutes apart.
            let aged = |m: &Metrics| {
                let mut m = m.clone();
                m.exceptions_open_avg_age_secs = None;
                m.exceptions_open_max_age_secs = None;
                m
            };
            let same = aged(&first) == aged(&raw) && last.as_ref().map(aged) == Some(aged(&raw));
            println!("{name:<20} from the orders alone {took:>7} ms; the reports equal it: {same}");
        }
    }
    Ok(())
}
