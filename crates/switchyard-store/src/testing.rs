//! Test support (feature `testing`): fresh databases for each test on both
//! backends. The PostgreSQL server comes from `SWITCHYARD_TEST_PG_URL`
//! (e.g. `postgres://postgres@127.0.0.1:5432/test`); each test gets its own
//! database, dropped when the [`TestDb`] is.

use std::io::Write;

use sqlx::Connection;

/// The environment variable naming the PostgreSQL server for tests.
pub const PG_URL_VAR: &str = "SWITCHYARD_TEST_PG_URL";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database; removed on drop.
pub struct TestDb {
    /// What to pass as `--db`.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

impl TestDb {
    /// A fresh database, or `None` (after saying so loudly on stderr) when
    /// the backend is PostgreSQL and `SWITCHYARD_TEST_PG_URL` is unset.
    pub async fn fresh(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("switchyard-test-{}.db", unique()));
                Some(TestDb { url: path.display().to_string(), cleanup: Cleanup::File(path) })
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var(PG_URL_VAR) else {
                    // Straight to stderr: libtest would swallow eprintln! output.
                    let _ = writeln!(
                        std::io::stderr(),
                        "*** SKIPPED (PostgreSQL): {PG_URL_VAR} is not set, so this test did not run on PostgreSQL. \
                         .ci/run sets it; set it to e.g. postgres://postgres@127.0.0.1:5432/test ***"
                    );
                    return None;
                };
                let name = format!("switchyard_test_{}", unique());
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("{PG_URL_VAR}={admin_url} is set but PostgreSQL is not reachable: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
                let _ = conn.close().await;
                let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin_url.clone());
                Some(TestDb { url: format!("{base}/{name}"), cleanup: Cleanup::Database { admin_url, name } })
            }
        }
    }
}

impl TestDb {
    /// Waits (at most `limit`) until no other client session is connected
    /// to this database: after a process was killed, PostgreSQL still runs
    /// what its sessions had already received — a COMMIT among it — until
    /// each session finds its client gone. Only then is what is stored
    /// final. Returns whether the sessions ended in time; SQLite has none.
    pub async fn wait_for_other_sessions_to_end(&self, limit: std::time::Duration) -> bool {
        let Cleanup::Database { .. } = &self.cleanup else { return true };
        let Ok(mut conn) = sqlx::PgConnection::connect(&self.url).await else { return false };
        let sql = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                   AND pid <> pg_backend_pid() AND backend_type = 'client backend'";
        // Counted in pauses, not read from the clock (tidy).
        let pause = std::time::Duration::from_millis(20);
        for _ in 0..=limit.as_millis() / pause.as_millis() {
            let others: Result<i64, _> = sqlx::query_scalar(sql).fetch_one(&mut conn).await;
            if others.is_ok_and(|n| n == 0) {
                let _ = conn.close().await;
                return true;
            }
            tokio::time::sleep(pause).await;
        }
        false
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside a runtime: do the async work on a
                // thread of its own.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                    rt.block_on(async {
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A shipping warehouse in Reno (no pickup, no coordinates, UTC), the
/// location most tests need.
pub fn warehouse(code: &str, priority: i32) -> switchyard_core::Location {
    switchyard_core::Location {
        code: switchyard_core::LocationCode::parse(code).unwrap_or_else(|e| panic!("test location {code:?}: {e}")),
        name: code.into(),
        kind: switchyard_core::LocationKind::Warehouse,
        address: switchyard_core::Address {
            line1: "1".into(),
            city: "Reno".into(),
            region: "NV".into(),
            postal_code: "89501".into(),
            country: "US".into(),
        },
        lat: None,
        lon: None,
        can_ship: true,
        can_pickup: false,
        priority,
        active: true,
        lead_time_days: 0,
        timezone: "UTC".into(),
    }
}
