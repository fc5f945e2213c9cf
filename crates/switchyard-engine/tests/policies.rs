//! Regression (issue 7, "a policy version can be active and shadow at the
//! same time"): a version is never both, on both backends.

use std::sync::Arc;

use switchyard_engine::{Code, Config, Engine, IdGen, ManualClock};
use switchyard_store::testing::{Backend, TestDb};

async fn a_version_is_never_both_active_and_shadow(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    let clock = Arc::new(ManualClock::new(1_796_040_000_000));
    let e = Engine::open(&db.url, Config::default(), clock, IdGen::seeded(3)).await.expect("open");
    let v1 = e.save_policy("# v1\n", "first", "ana").await.expect("save").version;
    let v2 = e.save_policy("# v2\n", "second", "ana").await.expect("save").version;
    e.activate_policy(v1, "ana").await.expect("activate v1");
    // The active version cannot also run in shadow.
    let err = e.set_shadow_policy(Some(v1), "ana").await.expect_err("active cannot shadow");
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    assert_eq!(e.shadow_policy().await.expect("shadow"), None, "nothing changed");
    // A shadow version that is activated stops running in shadow.
    e.set_shadow_policy(Some(v2), "ana").await.expect("shadow v2");
    let active = e.activate_policy(v2, "ana").await.expect("activate v2");
    assert!(active.active && !active.shadow, "{active:?}");
    assert_eq!(e.shadow_policy().await.expect("shadow"), None);
    // Rolling back to a version that runs in shadow stops the shadow too.
    e.set_shadow_policy(Some(v1), "ana").await.expect("shadow v1");
    let back = e.rollback_policy("ana").await.expect("rollback").expect("v1 again");
    assert_eq!(back.version, v1);
    assert!(back.active && !back.shadow, "{back:?}");
    for p in e.list_policies(10).await.expect("list") {
        assert!(!(p.active && p.shadow), "version {} is both", p.version);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_is_never_both_active_and_shadow_sqlite() {
    a_version_is_never_both_active_and_shadow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_is_never_both_active_and_shadow_postgres() {
    a_version_is_never_both_active_and_shadow(Backend::Postgres).await;
}
