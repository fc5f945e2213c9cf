//! Persistence for Switchyard: SQL primitives over SQLite (the embedded
//! default) and PostgreSQL, one module per aggregate.
//!
//! Only this crate knows SQL, and it knows nothing else: no use case and no
//! business rule lives here. Each function reads or writes one aggregate's
//! rows inside a transaction ([`db::Tx`]) that its caller — the engine —
//! opened; statuses and kinds are written and matched through the core's
//! enums, never spelled out as SQL literals.
//!
//! | module | rows |
//! |---|---|
//! | [`db`] | connections, transactions, parameters, typed row getters |
//! | [`stock`] | positions and the ledger |
//! | [`catalog`] | locations, SKUs and bundles, channels |
//! | [`orders`] | orders, lines, allocations, reservations, events, shipments |
//! | [`routing`] | policy versions, decisions, per-day location counts |
//! | [`returns`] | return policy versions, returns, their lines, receipts, timeline, RMA counter |
//! | [`return_views`] | read models of returns and return policies |
//! | [`deliveries`] | webhook deliveries already handled |
//! | [`exceptions`] | the exception queue and its log |
//! | [`fulfilment`] | each order's step at a location; the rows of a location's pick list |
//! | [`complaints`] | customers' complaints recorded against orders |
//! | [`purchase_orders`] | dropship vendors' settings, purchase orders and their lines, vendor links |
//! | [`notifications`] | customer notifications: templates, deliveries, status page milestones and links |
//! | [`metrics`] | metrics counted per day from the records; Prometheus gauges |
//! | [`sessions`] | dashboard sessions |
//! | [`sku_map`] | each channel's SKUs → ours |
//! | [`outbox`] | messages for channels and the notifier |
//! | [`views`] | read models for the API and dashboard |
//! | [`audit`] | the ledger replay |

pub mod audit;
pub mod catalog;
pub mod channel_sync;
pub mod complaints;
pub mod db;
pub mod deliveries;
mod error;
pub mod exceptions;
pub mod fulfilment;
pub mod health;
pub mod history;
pub mod marketplace;
pub mod metrics;
pub mod metrics_rollups;
mod model;
pub mod notifications;
pub mod orders;
pub mod outbox;
pub mod purchase_orders;
pub mod return_stats;
pub mod return_views;
pub mod returns;
pub mod routing;
pub mod sessions;
pub mod sku_map;
pub mod staff;
pub mod stock;
#[cfg(feature = "testing")]
pub mod testing;
pub mod views;

pub use db::{Db, Row, Tx, Value};
pub use error::StoreError;
pub use model::*;
/// The SQLite writer's own connection (see [`Db::sqlite_writer`]).
pub use rusqlite::Connection as WriterConnection;
/// The driver's error type, for callers that classify store failures.
pub use sqlx::Error as SqlxError;

/// Whether `name` is an IANA time zone (e.g. `America/Los_Angeles`, `UTC`).
pub fn is_timezone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

/// The local calendar date (`YYYY-MM-DD`) at `now_ms` in time zone `tz`.
/// Zones are validated when a location is saved; an unknown one counts in
/// UTC, and a time outside chrono's range (±262,000 years) has no date.
pub fn local_date(tz: &str, now_ms: i64) -> String {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    chrono::DateTime::from_timestamp_millis(now_ms)
        .map_or_else(String::new, |t| t.with_timezone(&tz).date_naive().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp_millis()).expect("time")
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        assert!(is_timezone("America/Denver") && !is_timezone("Mars/Olympus"));
        assert_eq!(local_date("America/Los_Angeles", ms("2026-11-27T07:59:00Z")), "2026-11-26");
        assert_eq!(local_date("America/Los_Angeles", ms("2026-11-27T08:00:00Z")), "2026-11-27");
    }
}
