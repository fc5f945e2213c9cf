//! Migrations that reshape tables holding data, applied to a database an
//! earlier release wrote (not only to an empty one): nothing is lost and
//! every foreign key still holds.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Row;
use switchyard_store::Db;

/// A fresh directory holding the SQLite migrations numbered below `before`.
fn migrations_before(dir: &Path, before: u32) -> PathBuf {
    let out = dir.join("migrations");
    std::fs::create_dir_all(&out).expect("dir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(src).expect("read migrations") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        let number: u32 = name.split('_').next().and_then(|n| n.parse().ok()).expect("numbered");
        if number < before {
            std::fs::copy(&path, out.join(&name)).expect("copy");
        }
    }
    out
}

/// id, order_id, kind, status, level, resolved_by, note, channel.
type ExceptionRow = (String, Option<String>, String, String, i64, Option<String>, Option<String>, Option<String>);

async fn pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .expect("options")
        .create_if_missing(true)
        .foreign_keys(true);
    SqlitePoolOptions::new().max_connections(1).connect_with(options).await.expect("connect")
}

#[tokio::test]
async fn exceptions_rebuilt_for_channels_keep_every_row_and_log_entry_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("switchyard-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("old.db");

    // The database as release 0016 left it, with an order, two exceptions
    // and their logs.
    let old = pool(&file).await;
    Migrator::new(migrations_before(&dir, 17)).await.expect("migrator").run(&old).await.expect("old migrations");
    for sql in [
        "INSERT INTO orders (id, channel, external_id, status, currency, total_minor, payment, service_level, \
         ship_to, created_at, updated_at) VALUES ('o1', 'web', 'A-1', 'on_hold', 'USD', 100, 'paid', 'standard', \
         '{}', 1, 1)",
        "INSERT INTO exceptions (id, order_id, kind, severity, owner_role, status, message, level, sla_ms, created_at) \
         VALUES ('e1', 'o1', 'address_invalid', 'high', 'ops', 'open', 'no street', 0, 1000, 5)",
        "INSERT INTO exceptions (id, order_id, kind, severity, owner_role, status, message, level, sla_ms, created_at, \
         resolved_at, resolved_by, resolution, note) VALUES ('e2', 'o1', 'backordered', 'medium', 'ops', 'resolved', \
         'short', 1, 2000, 6, 9, 'ann', 'retry', 'restocked')",
        "INSERT INTO exception_log (exception_id, at, actor, action, note) VALUES ('e1', 5, 'system', 'opened', 'a')",
        "INSERT INTO exception_log (exception_id, at, actor, action, note) VALUES ('e2', 6, 'system', 'opened', 'b')",
        "INSERT INTO exception_log (exception_id, at, actor, action, note) VALUES ('e2', 9, 'ann', 'retry', 'c')",
    ] {
        sqlx::query(sql).execute(&old).await.expect(sql);
    }
    old.close().await;

    // Today's release opens it: migration 0017 rebuilds both tables.
    let db = Db::open(file.to_str().expect("utf-8 path")).await.expect("open with every migration");
    drop(db);

    let now = pool(&file).await;
    let rows =
        sqlx::query("SELECT id, order_id, kind, status, level, resolved_by, note, channel FROM exceptions ORDER BY id")
            .fetch_all(&now)
            .await
            .expect("exceptions");
    let got: Vec<ExceptionRow> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7))).collect();
    assert_eq!(
        got,
        vec![
            ("e1".into(), Some("o1".into()), "address_invalid".into(), "open".into(), 0, None, None, None),
            (
                "e2".into(),
                Some("o1".into()),
                "backordered".into(),
                "resolved".into(),
                1,
                Some("ann".into()),
                Some("restocked".into()),
                None
            ),
        ]
    );
    let log: Vec<(i64, String, String)> = sqlx::query("SELECT id, exception_id, note FROM exception_log ORDER BY id")
        .fetch_all(&now)
        .await
        .expect("log")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(log, vec![(1, "e1".into(), "a".into()), (2, "e2".into(), "b".into()), (3, "e2".into(), "c".into())]);
    let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&now).await.expect("check");
    assert!(broken.is_empty(), "every foreign key holds");

    // The log still refers to the exceptions table (an unknown exception is
    // refused), ids go on from the last one, and a channel's exception needs
    // no order — but every exception names one or the other.
    let orphan = "INSERT INTO exception_log (exception_id, at, actor, action, note) VALUES ('nope', 1, 'x', 'y', 'z')";
    assert!(sqlx::query(orphan).execute(&now).await.is_err(), "the log's foreign key survived the rebuild");
    sqlx::query(
        "INSERT INTO exceptions (id, channel, kind, severity, owner_role, status, message, level, sla_ms, created_at) \
         VALUES ('e3', 'amazon', 'sync_failed', 'medium', 'ops', 'open', 'refused', 0, 1000, 7)",
    )
    .execute(&now)
    .await
    .expect("a channel's exception");
    let id = sqlx::query(
        "INSERT INTO exception_log (exception_id, at, actor, action, note) \
                          VALUES ('e3', 7, 'system', 'opened', 'd') RETURNING id",
    )
    .fetch_one(&now)
    .await
    .expect("log e3")
    .get::<i64, _>(0);
    assert_eq!(id, 4);
    let neither =
        "INSERT INTO exceptions (id, kind, severity, owner_role, status, message, level, sla_ms, created_at) \
                   VALUES ('e4', 'sync_failed', 'medium', 'ops', 'open', 'x', 0, 1, 1)";
    assert!(sqlx::query(neither).execute(&now).await.is_err(), "an exception about nothing is refused");
    now.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Migration 0019 (metrics): orders cancelled before it keep a NULL reason
/// ("unrecorded") and are classified as short of stock or not from the
/// backordered exception their cancellation closed; open orders and lines
/// taken before have no intake record.
#[tokio::test]
async fn cancellations_taken_before_0019_are_classified_from_the_exceptions_they_closed_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("switchyard-migrate-0019-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("old.db");

    let old = pool(&file).await;
    Migrator::new(migrations_before(&dir, 19)).await.expect("migrator").run(&old).await.expect("old migrations");
    let order = |id: &str, status: &str| {
        format!(
            "INSERT INTO orders (id, channel, external_id, status, currency, total_minor, payment, service_level, \
             ship_to, created_at, updated_at) VALUES ('{id}', 'web', '{id}', '{status}', 'USD', 100, 'paid', \
             'standard', '{{}}', 1, 1)"
        )
    };
    let line = |id: &str, backordered: i64| {
        format!(
            "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, backordered) \
             VALUES ('{id}', 1, 'TEE', 3, 100, {backordered})"
        )
    };
    let exception = |id: &str, order: &str, kind: &str, resolution: &str| {
        format!(
            "INSERT INTO exceptions (id, order_id, kind, severity, owner_role, status, message, level, sla_ms, \
             created_at, resolved_at, resolved_by, resolution) VALUES ('{id}', '{order}', '{kind}', 'medium', \
             'ops', 'resolved', 'm', 0, 1000, 2, 3, 'system', '{resolution}')"
        )
    };
    for sql in [
        // Cancelled while backordered: 2 units short.
        order("short", "cancelled"),
        line("short", 2),
        exception("e1", "short", "backordered", "cancel"),
        // Cancelled fully allocated.
        order("full", "cancelled"),
        line("full", 0),
        // Cancelled with units unfilled after its backorder was settled
        // (a payment-timeout hold): not short of stock.
        order("lapsed", "cancelled"),
        line("lapsed", 3),
        exception("e2", "lapsed", "backordered", "allocated"),
        exception("e3", "lapsed", "payment_timeout", "cancel"),
        // Still open.
        order("open", "backordered"),
        line("open", 1),
    ] {
        sqlx::query(&sql).execute(&old).await.expect("old rows");
    }
    old.close().await;

    let db = Db::open(file.to_str().expect("utf-8 path")).await.expect("open with every migration");
    drop(db);
    let now = pool(&file).await;
    let rows: Vec<(String, Option<String>, Option<i64>)> =
        sqlx::query("SELECT id, cancel_reason, cancel_short_units FROM orders ORDER BY id")
            .fetch_all(&now)
            .await
            .expect("orders")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    assert_eq!(
        rows,
        vec![
            ("full".into(), None, Some(0)),
            ("lapsed".into(), None, Some(0)),
            ("open".into(), None, None),
            ("short".into(), None, Some(2)),
        ]
    );
    let unmeasured: i64 =
        sqlx::query("SELECT COUNT(*) FROM order_lines WHERE atp_at_order IS NULL AND filled_at_order IS NULL")
            .fetch_one(&now)
            .await
            .expect("lines")
            .get(0);
    assert_eq!(unmeasured, 4, "lines taken before have no intake record");
    now.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
