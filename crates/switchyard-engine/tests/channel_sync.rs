//! Stock levels out to the channels, against local stand-ins of the
//! platforms: the platforms' request shapes, coalescing, rate limits and
//! 429s, backoff and dead-lettering, import-only and SKU scopes, restarts,
//! and three channels selling one SKU at once converging on the truth.
//! Time is a `ManualClock`: rate limits and backoff are stepped, not slept.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{assert_clean, loc, sku, web_order};

use switchyard_core::sync::Backoff;
use switchyard_core::{Channel, ChannelDraft, ChannelName, PaymentState, Resolution, ResolutionAction, SkuDef};
use switchyard_engine::{ChannelSync, Config, Engine, Error, IdGen, ManualClock, SyncOptions};
use switchyard_standin::{Scripted, StandIn};
use switchyard_store::testing::{Backend, TestDb};
use switchyard_store::{ExceptionFilter, ExceptionView};

both!(
    levels_reach_shopify_and_amazon_in_their_own_request_shapes,
    changes_between_rounds_coalesce_to_the_newest_level,
    a_429_pauses_the_connection_until_retry_after_and_then_the_level_goes_out,
    failures_back_off_then_dead_letter_and_a_resync_revives,
    a_refused_level_is_dead_lettered_at_once,
    import_only_connections_and_skus_outside_the_scope_get_nothing,
    a_restart_loses_no_level_and_resends_only_absolute_quantities,
    three_channels_selling_one_sku_converge_on_the_truth,
    shipments_and_cancellations_made_here_reach_the_origin_channel,
    news_the_origin_refuses_opens_a_sync_failed_exception_and_import_only_hears_nothing,
    an_unknown_sku_keeps_the_order_on_hold_until_the_channel_sku_is_mapped,
    dead_levels_open_one_sync_failed_exception_on_the_connection_until_retried,
    a_connection_test_refreshes_the_token_and_reads_once_and_names_the_failing_step,
);

const NOW: i64 = 1_790_000_000_000;

struct T {
    e: Arc<Engine>,
    clock: Arc<ManualClock>,
    url: String,
}

async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(NOW));
    let e = Engine::open(&db.url, Config::default(), clock.clone(), IdGen::seeded(5)).await.expect("open engine");
    for (code, priority) in [("A", 1), ("B", 2)] {
        e.put_location(&switchyard_store::testing::warehouse(code, priority)).await.expect("location");
    }
    for s in ["TEE", "MUG", "CAP"] {
        e.put_sku(&SkuDef::plain(sku(s), s)).await.expect("sku");
        e.set_stock(&sku(s), &loc("A"), 10, None, "start").await.expect("stock");
    }
    T { e: Arc::new(e), clock, url: db.url.clone() }
}

fn options() -> SyncOptions {
    SyncOptions {
        tick: Duration::from_millis(10),
        request_timeout: Duration::from_millis(500),
        backoff: Backoff { first_ms: 1_000, max_ms: 4_000, max_attempts: 3 },
        default_retry_after_ms: 2_000,
    }
}

fn creds(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn name(n: &str) -> ChannelName {
    ChannelName::parse(n).expect("channel name")
}

/// Connects a live channel of `kind` to a stand-in, with the settings and
/// credentials that platform needs.
async fn connect(e: &Engine, n: &str, standin: &StandIn, mode: &str, scope: &[&str]) {
    let kind = standin.kind();
    type Pairs = &'static [(&'static str, &'static str)];
    let (settings, credentials): (Pairs, Pairs) = match kind.as_str() {
        "shopify" => (&[("location_id", "77")], &[("access_token", "shpat_secret")]),
        "amazon" => (
            &[("seller_id", "A1SELLER"), ("marketplace_id", "ATVPDKIKX0DER")],
            &[("client_id", "amzn1.app"), ("client_secret", "amzn-secret"), ("refresh_token", "Atzr|r1")],
        ),
        "ebay" => (&[], &[("client_id", "ebay-app"), ("client_secret", "ebay-secret"), ("refresh_token", "v^1.1#r")]),
        "woocommerce" => (&[], &[("consumer_key", "ck_1"), ("consumer_secret", "cs_1")]),
        other => panic!("no connection recipe for {other}"),
    };
    let c = Channel::parse(ChannelDraft {
        name: n.into(),
        kind: Some(kind.as_str().into()),
        mode: Some(mode.into()),
        sku_scope: scope.iter().map(|s| (*s).to_owned()).collect(),
        base_url: Some(standin.url()),
        // Stock out only: order polls have their own tests (channel_poll.rs).
        settings: creds(&[settings, &[("poll_orders", "off")]].concat()),
        active: true,
        ..ChannelDraft::default()
    })
    .expect("channel");
    e.put_connection(&c, None, Some(creds(credentials))).await.expect("connect");
}

fn sync(t: &T) -> ChannelSync {
    ChannelSync::new(t.e.clone(), options()).expect("sync worker")
}

async fn sell(e: &Engine, channel: &str, ext: &str, s: &str, units: i64) -> String {
    let mut o = web_order(ext, &[(s, units)], 1000, 1000 * units, PaymentState::Paid);
    o.channel = name(channel);
    e.create_order(&o).await.expect("order").0.id
}

async fn levels_reach_shopify_and_amazon_in_their_own_request_shapes(t: T) {
    let (shop, amzn) =
        (StandIn::start(kind("shopify")).await.expect("up"), StandIn::start(kind("amazon")).await.expect("up"));
    connect(&t.e, "shopify", &shop, "live", &[]).await;
    connect(&t.e, "amazon", &amzn, "live", &[]).await;
    t.e.map_channel_sku(&name("shopify"), "TEE", &sku("TEE"), Some("111")).await.expect("map");
    t.e.map_channel_sku(&name("shopify"), "MUG", &sku("MUG"), Some("222")).await.expect("map");
    t.e.map_channel_sku(&name("shopify"), "CAP", &sku("CAP"), Some("333")).await.expect("map");
    sell(&t.e, "amazon", "A-1", "TEE", 3).await;
    let round = sync(&t).round().await.expect("round");
    assert!(round.accepted >= 2 && round.failed == 0, "{round:?}");

    let shop_levels = shop.levels();
    assert_eq!(shop_levels.get("gid://shopify/InventoryItem/111"), Some(&7), "{shop_levels:?}");
    assert_eq!(shop_levels.get("gid://shopify/InventoryItem/222"), Some(&10));
    let set = shop.stock_requests();
    let first = set.first().expect("a Shopify stock call");
    assert_eq!(first.method, "POST");
    assert!(first.path.starts_with("/admin/api/") && first.path.ends_with("/graphql.json"), "{}", first.path);
    assert_eq!(first.header("x-shopify-access-token"), Some("shpat_secret"));
    let q = &first.json()["variables"]["input"]["quantities"][0];
    assert_eq!(q["locationId"], "gid://shopify/Location/77");

    assert_eq!(amzn.levels(), BTreeMap::from([("CAP".into(), 10), ("MUG".into(), 10), ("TEE".into(), 7)]));
    let token_calls: Vec<_> = amzn.requests().into_iter().filter(|r| r.path.ends_with("/token")).collect();
    assert_eq!(token_calls.len(), 1, "one token for the whole round");
    let patch = amzn.stock_requests().into_iter().find(|r| r.path.contains("/TEE?")).expect("TEE patched");
    assert_eq!(patch.method, "PATCH");
    assert!(patch.path.starts_with("/listings/2021-08-01/items/A1SELLER/TEE?marketplaceIds=ATVPDKIKX0DER"));
    assert_eq!(patch.header("x-amz-access-token"), Some("tok-1"));
    assert_eq!(patch.json()["patches"][0]["value"][0]["quantity"], 7);

    let status = t.e.channel_sync_status(&name("amazon")).await.expect("status");
    assert_eq!((status.backlog, status.dead, status.lag_samples), (0, 0, 3), "{status:?}");
    assert!(status.recent.iter().any(|a| a.purpose == "token" && a.outcome == "accepted"));
    assert_clean(&t.e).await;
}

async fn changes_between_rounds_coalesce_to_the_newest_level(t: T) {
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    connect(&t.e, "amazon", &amzn, "live", &["TEE"]).await;
    let mut worker = sync(&t);
    worker.round().await.expect("first round");
    amzn.clear_requests();
    for i in 0..6 {
        sell(&t.e, "web", &format!("W-{i}"), "TEE", 1).await;
    }
    let round = worker.round().await.expect("round");
    assert_eq!(round.messages, 1, "six changes of one SKU: the outbox kept only the newest message");
    let patches = amzn.stock_requests();
    assert_eq!(patches.len(), 1, "one level sent for six changes: {patches:?}");
    assert_eq!(patches[0].json()["patches"][0]["value"][0]["quantity"], 4);
    assert_eq!(amzn.levels().get("TEE"), Some(&4));
}

async fn a_429_pauses_the_connection_until_retry_after_and_then_the_level_goes_out(t: T) {
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    connect(&t.e, "amazon", &amzn, "live", &["TEE"]).await;
    amzn.script([Scripted::Normal, Scripted::throttled(Some(3))]); // the token, then the patch
    let mut worker = sync(&t);
    let first = worker.round().await.expect("round");
    assert_eq!((first.throttled, first.accepted), (1, 0), "{first:?}");
    assert!(amzn.levels().is_empty());
    t.clock.advance_ms(2_000);
    let before = amzn.requests().len();
    worker.round().await.expect("round");
    assert_eq!(amzn.requests().len(), before, "still paused: nothing sent before Retry-After");
    t.clock.advance_ms(1_500);
    let later = worker.round().await.expect("round");
    assert_eq!(later.accepted, 1, "{later:?}");
    assert_eq!(amzn.levels().get("TEE"), Some(&10));
    let status = t.e.channel_sync_status(&name("amazon")).await.expect("status");
    assert!(status.recent_failures.iter().any(|a| a.outcome == "throttled" && a.http_status == Some(429)));
    let level = &t.e.channel_levels(&name("amazon")).await.expect("levels")[0];
    assert_eq!((level.failures, level.sent), (0, Some(10)), "a throttle is not a failure");
}

async fn failures_back_off_then_dead_letter_and_a_resync_revives(t: T) {
    let ebay = StandIn::start(kind("ebay")).await.expect("up");
    connect(&t.e, "ebay", &ebay, "live", &["MUG"]).await;
    // The token, then three failures: a 500, a hang past the timeout, a 503.
    ebay.script([
        Scripted::Normal,
        Scripted::status(500),
        Scripted::Hang(Duration::from_secs(2)),
        Scripted::status(503),
    ]);
    let mut worker = sync(&t);
    worker.round().await.expect("round");
    let l = t.e.channel_levels(&name("ebay")).await.expect("levels").remove(0);
    assert_eq!(l.failures, 1);
    let wait = l.next_attempt_at - NOW;
    assert!((500..=1_000).contains(&wait), "first backoff within [500, 1000] ms: {wait}");
    worker.round().await.expect("round");
    assert_eq!(ebay.stock_requests().len(), 1, "not retried before its time");
    t.clock.advance_ms(1_000);
    worker.round().await.expect("round (the hang)");
    let l = t.e.channel_levels(&name("ebay")).await.expect("levels").remove(0);
    assert_eq!(l.failures, 2);
    assert!(l.last_error.as_deref().is_some_and(|e| e.contains("timed out")), "{l:?}");
    t.clock.advance_ms(2_000);
    worker.round().await.expect("round");
    let l = t.e.channel_levels(&name("ebay")).await.expect("levels").remove(0);
    assert!(l.dead_at.is_some(), "dead after three failures: {l:?}");
    t.clock.advance_ms(60_000);
    worker.round().await.expect("round");
    assert_eq!(ebay.stock_requests().len(), 3, "the dead are not retried");
    let status = t.e.channel_sync_status(&name("ebay")).await.expect("status");
    assert_eq!((status.dead, status.backlog), (1, 0));
    let open = channel_exceptions(&t.e, "ebay", "open").await;
    assert_eq!(open.len(), 1, "the dead level opened a sync_failed exception: {open:?}");
    assert_eq!((open[0].kind.as_str(), open[0].order_id.as_deref()), ("sync_failed", None));
    assert!(open[0].message.contains("SKU MUG"), "{}", open[0].message);

    assert_eq!(t.e.resync_channel(&name("ebay")).await.expect("resync"), 1);
    worker.round().await.expect("round");
    assert_eq!(ebay.levels().get("MUG"), Some(&10));
    let status = t.e.channel_sync_status(&name("ebay")).await.expect("status");
    assert_eq!((status.dead, status.backlog), (0, 0));
    let closed = channel_exceptions(&t.e, "ebay", "resolved").await;
    assert_eq!(closed.len(), 1, "delivered again: the exception closed by itself");
    assert_eq!(closed[0].resolved_by.as_deref(), Some("system"));
    assert!(channel_exceptions(&t.e, "ebay", "open").await.is_empty());
    assert_clean(&t.e).await;
}

/// The exceptions of one connection (its own and its orders') in a status.
async fn channel_exceptions(e: &Engine, channel: &str, status: &str) -> Vec<ExceptionView> {
    let f = ExceptionFilter {
        status: Some(status.into()),
        channel: Some(channel.into()),
        limit: 100,
        ..ExceptionFilter::default()
    };
    e.list_exceptions(&f).await.expect("exceptions")
}

fn act(action: ResolutionAction, note: &str) -> Resolution {
    Resolution { action, actor: "ops@shop".into(), note: note.into(), address: None, location: None }
}

async fn dead_levels_open_one_sync_failed_exception_on_the_connection_until_retried(t: T) {
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    connect(&t.e, "amazon", &amzn, "live", &["CAP", "TEE", "MUG"]).await;
    // The token, then every listing refused (a wrong seller id, say).
    amzn.script([Scripted::Normal, Scripted::status(400), Scripted::status(400), Scripted::status(400)]);
    sync(&t).round().await.expect("round");
    assert_eq!(t.e.channel_sync_status(&name("amazon")).await.expect("status").dead, 3);
    let open = channel_exceptions(&t.e, "amazon", "open").await;
    assert_eq!(open.len(), 1, "one problem, one exception, not one per SKU: {open:?}");
    let ex = &open[0];
    assert_eq!(
        (ex.kind.as_str(), ex.order_id.as_deref(), ex.channel.as_deref()),
        ("sync_failed", None, Some("amazon"))
    );
    assert_eq!(ex.actions, ["retry", "dismiss"]);
    // A new failure while it is open adds no second one.
    t.e.set_stock(&sku("CAP"), &loc("A"), 9, None, "count").await.expect("count");
    amzn.script([Scripted::status(400)]);
    sync(&t).round().await.expect("round");
    assert_eq!(channel_exceptions(&t.e, "amazon", "open").await.len(), 1);

    // Actions about orders make no sense here; dismissing needs a reason.
    let cancel = t.e.resolve_exception(&ex.id, &act(ResolutionAction::Cancel, "")).await;
    assert!(matches!(cancel, Err(Error::Conflict(_))), "{cancel:?}");
    let dismiss = t.e.resolve_exception(&ex.id, &act(ResolutionAction::Dismiss, " ")).await;
    assert!(matches!(dismiss, Err(Error::Conflict(_))), "{dismiss:?}");
    assert_eq!(channel_exceptions(&t.e, "amazon", "open").await.len(), 1, "a refused action changes nothing");

    // The cause fixed, retry makes every level due again; they go out.
    t.e.resolve_exception(&ex.id, &act(ResolutionAction::Retry, "seller id corrected")).await.expect("retry");
    let done = t.e.get_exception(&ex.id).await.expect("read").expect("exception");
    assert_eq!((done.status.as_str(), done.resolved_by.as_deref()), ("resolved", Some("ops@shop")));
    assert!(done.note.as_deref().is_some_and(|n| n.contains("made due again")), "{done:?}");
    let status = t.e.channel_sync_status(&name("amazon")).await.expect("status");
    assert_eq!((status.dead, status.backlog), (0, 3));
    sync(&t).round().await.expect("round");
    let got: Vec<_> = ["CAP", "MUG", "TEE"].iter().map(|s| amzn.levels().get(*s).copied()).collect();
    assert_eq!(got, [Some(9), Some(10), Some(10)]);
    assert!(channel_exceptions(&t.e, "amazon", "open").await.is_empty());
    assert_clean(&t.e).await;

    // Dismissed with a reason, it stays dismissed and the levels stay dead.
    t.e.set_stock(&sku("TEE"), &loc("A"), 8, None, "count").await.expect("count");
    amzn.script([Scripted::status(400)]);
    sync(&t).round().await.expect("round");
    let open = channel_exceptions(&t.e, "amazon", "open").await;
    assert_eq!(open.len(), 1, "a new failure after the last one closed opens a new one");
    t.e.resolve_exception(&open[0].id, &act(ResolutionAction::Dismiss, "listing retired")).await.expect("dismiss");
    assert_eq!(channel_exceptions(&t.e, "amazon", "dismissed").await.len(), 1);
    assert_eq!(t.e.channel_sync_status(&name("amazon")).await.expect("status").dead, 1);
    assert_clean(&t.e).await;
}

async fn a_refused_level_is_dead_lettered_at_once(t: T) {
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    connect(&t.e, "amazon", &amzn, "live", &["CAP"]).await;
    amzn.script([Scripted::Normal, Scripted::status(400)]);
    sync(&t).round().await.expect("round");
    let l = t.e.channel_levels(&name("amazon")).await.expect("levels").remove(0);
    assert!(l.dead_at.is_some() && l.failures == 1, "{l:?}");
    assert!(l.last_error.as_deref().is_some_and(|e| e.contains("400")), "{l:?}");
    // A Shopify SKU without its inventory item id cannot be sent at all;
    // the others of its batch still go.
    let shop = StandIn::start(kind("shopify")).await.expect("up");
    connect(&t.e, "shopify", &shop, "live", &["CAP", "TEE"]).await;
    t.e.map_channel_sku(&name("shopify"), "TEE", &sku("TEE"), Some("111")).await.expect("map");
    sync(&t).round().await.expect("round");
    assert_eq!(shop.levels(), BTreeMap::from([("gid://shopify/InventoryItem/111".into(), 10)]), "TEE went");
    shop.clear_requests();
    let l = t.e.channel_levels(&name("shopify")).await.expect("levels").remove(0);
    assert!(l.dead_at.is_some(), "{l:?}");
    assert!(l.last_error.as_deref().is_some_and(|e| e.contains("inventory item")), "{l:?}");
    let status = t.e.channel_sync_status(&name("shopify")).await.expect("status");
    assert_eq!(status.recent_failures.first().map(|a| a.outcome.as_str()), Some("unsendable"));
    // Mapping it with its inventory item revives the dead level.
    t.e.map_channel_sku(&name("shopify"), "CAP", &sku("CAP"), Some("333")).await.expect("map");
    sync(&t).round().await.expect("round");
    assert_eq!(shop.levels().get("gid://shopify/InventoryItem/333"), Some(&10));
    let l = t.e.channel_levels(&name("shopify")).await.expect("levels").remove(0);
    assert_eq!(l.sku, "CAP");
    assert_eq!((l.dead_at, l.sent), (None, Some(10)), "{l:?}");
}

async fn import_only_connections_and_skus_outside_the_scope_get_nothing(t: T) {
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    connect(&t.e, "amazon", &amzn, "import_only", &[]).await;
    sell(&t.e, "amazon", "A-1", "TEE", 1).await;
    sync(&t).round().await.expect("round");
    assert!(amzn.requests().is_empty(), "import_only: nothing goes out");
    connect(&t.e, "amazon", &amzn, "live", &["TE*", "CAP"]).await;
    sell(&t.e, "web", "W-1", "MUG", 1).await;
    sell(&t.e, "web", "W-2", "TEE", 1).await;
    sync(&t).round().await.expect("round");
    let live = BTreeMap::from([("CAP".into(), 10), ("TEE".into(), 8)]);
    assert_eq!(amzn.levels(), live, "going live sends every level in scope; MUG is outside it");
    amzn.clear_requests();
    assert_eq!(t.e.resync_channel(&name("amazon")).await.expect("resync"), 2, "TEE and CAP");
    sync(&t).round().await.expect("round");
    assert_eq!((amzn.levels(), amzn.stock_requests().len()), (live, 2));
}

async fn a_restart_loses_no_level_and_resends_only_absolute_quantities(t: T) {
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    connect(&t.e, "amazon", &amzn, "live", &["TEE"]).await;
    sync(&t).round().await.expect("round");
    sell(&t.e, "web", "W-1", "TEE", 2).await;
    // The process stops before the worker runs again: the change waits in
    // the outbox. A new engine on the same database picks it up.
    let url = t.url.clone();
    drop(t.e);
    let clock = Arc::new(ManualClock::new(NOW + 10_000));
    let e = Arc::new(Engine::open(&url, Config::default(), clock, IdGen::seeded(6)).await.expect("reopen"));
    let mut worker = ChannelSync::new(e.clone(), options()).expect("worker");
    worker.round().await.expect("round");
    assert_eq!(amzn.levels().get("TEE"), Some(&8));
    let quantities: Vec<_> =
        amzn.stock_requests().iter().map(|r| r.json()["patches"][0]["value"][0]["quantity"].clone()).collect();
    assert_eq!(quantities, [10, 8], "absolute levels: a repeat would set the same number");
    worker.round().await.expect("round");
    assert_eq!(amzn.stock_requests().len(), 2, "nothing sent twice");
}

async fn three_channels_selling_one_sku_converge_on_the_truth(t: T) {
    let standins = [
        ("shopify", StandIn::start(kind("shopify")).await.expect("up")),
        ("amazon", StandIn::start(kind("amazon")).await.expect("up")),
        ("ebay", StandIn::start(kind("ebay")).await.expect("up")),
    ];
    for (n, s) in &standins {
        connect(&t.e, n, s, "live", &["TEE"]).await;
        s.throttle_every(4);
    }
    t.e.map_channel_sku(&name("shopify"), "TEE-S", &sku("TEE"), Some("9001")).await.expect("map");
    t.e.set_stock(&sku("TEE"), &loc("B"), 20, None, "restock").await.expect("stock");
    // 30 units, and 3 channels each trying to sell 12 at once, while the
    // worker runs beside them.
    let worker = sync(&t).spawn();
    let mut sellers = Vec::new();
    for (n, _) in &standins {
        for i in 0..12 {
            let (e, n) = (t.e.clone(), (*n).to_owned());
            sellers.push(tokio::spawn(async move {
                let mut o = web_order(&format!("{n}-{i}"), &[("TEE", 1)], 1000, 1000, PaymentState::Paid);
                o.channel = name(&n);
                e.create_order(&o).await.expect("order").0
            }));
            t.clock.advance_ms(50);
        }
    }
    let mut backordered = 0;
    for s in sellers {
        if s.await.expect("seller").status == "backordered" {
            backordered += 1;
        }
    }
    assert_eq!(backordered, 6, "36 asked for 30 units: 6 wait, none oversold");
    // Let the worker settle every level (it sleeps 10 ms between rounds;
    // the clock moves past each 429's Retry-After).
    for _ in 0..200 {
        t.clock.advance_ms(1_100);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut settled = true;
        for (n, _) in &standins {
            let s = t.e.channel_sync_status(&name(n)).await.expect("status");
            settled &= s.backlog == 0 && s.unprocessed_changes == 0;
        }
        if settled {
            break;
        }
    }
    worker.abort();
    let keys = [("shopify", "gid://shopify/InventoryItem/9001"), ("amazon", "TEE"), ("ebay", "TEE")];
    for ((n, s), (_, key)) in standins.iter().zip(keys) {
        let truth = t.e.channel_atp(&name(n), &sku("TEE")).await.expect("atp");
        assert_eq!(truth, 0);
        assert_eq!(s.levels().get(key), Some(&truth), "{n} shows the truth: {:?}", s.levels());
        assert!(s.requests().iter().any(|r| r.is_stock(s.kind())), "{n} was told");
    }
    assert_clean(&t.e).await;
}

async fn shipments_and_cancellations_made_here_reach_the_origin_channel(t: T) {
    let woo = StandIn::start(kind("woocommerce")).await.expect("up");
    connect(&t.e, "woo", &woo, "live", &["NONE"]).await;
    let ids = [sell(&t.e, "woo", "1001", "TEE", 2).await, sell(&t.e, "woo", "1002", "MUG", 1).await];
    let third = sell(&t.e, "woo", "1003", "CAP", 1).await;
    let shipment = switchyard_core::NewShipment {
        location: loc("A"),
        lines: vec![(sku("TEE"), switchyard_core::Quantity::new(2).expect("qty"))],
        carrier: Some("UPS".into()),
        tracking: Some("1Z999AA10123456784".into()),
        tracking_url: None,
    };
    t.e.ship(&ids[0], &shipment).await.expect("ship");
    t.e.cancel_order(&ids[1], "customer asked").await.expect("cancel");
    t.e.cancel_order_from_channel(&third, "cancelled on woo").await.expect("cancel");
    let round = sync(&t).round().await.expect("round");
    assert_eq!((round.accepted, round.failed), (2, 0), "{round:?}");
    let calls: Vec<(String, String, serde_json::Value)> =
        woo.requests().into_iter().map(|r| (r.method.clone(), r.path.clone(), r.json())).collect();
    let at = |m: &str, p: &str| calls.iter().find(|(mm, pp, _)| mm == m && pp == p).map(|(_, _, b)| b.clone());
    assert_eq!(at("PUT", "/wp-json/wc/v3/orders/1001"), Some(serde_json::json!({"status": "completed"})), "{calls:?}");
    let note = at("POST", "/wp-json/wc/v3/orders/1001/notes").expect("a tracking note");
    assert!(note["note"].as_str().is_some_and(|n| n.contains("UPS") && n.contains("1Z999AA10123456784")), "{note}");
    assert_eq!(at("PUT", "/wp-json/wc/v3/orders/1002"), Some(serde_json::json!({"status": "cancelled"})));
    assert!(!calls.iter().any(|(_, p, _)| p.contains("1003")), "the channel's own cancellation is not told back");
    assert!(woo.requests().iter().all(|r| r.header("authorization").is_some_and(|a| a.starts_with("Basic "))));
    sync(&t).round().await.expect("round");
    assert_eq!(woo.requests().len(), calls.len(), "each told once");
    assert_clean(&t.e).await;
}

async fn news_the_origin_refuses_opens_a_sync_failed_exception_and_import_only_hears_nothing(t: T) {
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    connect(&t.e, "amazon", &amzn, "live", &["NONE"]).await;
    let order = sell(&t.e, "amazon", "111-1", "TEE", 1).await;
    t.e.cancel_order(&order, "out of stock").await.expect("cancel");
    sync(&t).round().await.expect("round");
    assert!(amzn.requests().is_empty(), "Amazon has no seller cancel: nothing is sent");
    let view = t.e.get_order(&order).await.expect("get").expect("order");
    let open: Vec<_> = view.exceptions.iter().filter(|x| x.status == "open").map(|x| x.kind.clone()).collect();
    assert_eq!((view.status.as_str(), open), ("cancelled", vec!["sync_failed".to_owned()]));
    let status = t.e.channel_sync_status(&name("amazon")).await.expect("status");
    assert!(status.recent_failures.iter().any(|a| a.purpose == "cancel" && a.outcome == "rejected"), "{status:?}");
    assert_clean(&t.e).await;

    let woo = StandIn::start(kind("woocommerce")).await.expect("up");
    connect(&t.e, "woo", &woo, "import_only", &[]).await;
    let order = sell(&t.e, "woo", "2001", "MUG", 1).await;
    t.e.cancel_order(&order, "customer asked").await.expect("cancel");
    sync(&t).round().await.expect("round");
    assert!(woo.requests().is_empty(), "import_only: nothing goes out");
    // Live, but the shop updates orders on the platform itself.
    connect(&t.e, "woo", &woo, "live", &["NONE"]).await;
    let mut c = t.e.channel_connection(&name("woo")).await.expect("read").expect("channel").0;
    c.settings.insert("tell_origin".into(), "off".into());
    t.e.put_connection(&c, None, None).await.expect("settings");
    let order = sell(&t.e, "woo", "2002", "MUG", 1).await;
    t.e.cancel_order(&order, "customer asked").await.expect("cancel");
    sync(&t).round().await.expect("round");
    assert!(woo.requests().is_empty(), "tell_origin off: nothing goes out");
    assert_eq!(t.e.outbox_backlog().await.expect("backlog").dead, 1, "only Amazon's refusal is dead");

    // Retry on the order's sync_failed sends the refused news again.
    let ex = channel_exceptions(&t.e, "amazon", "open").await.remove(0);
    let amazon_order = ex.order_id.clone().expect("the order's exception");
    t.e.resolve_exception(&ex.id, &act(ResolutionAction::Retry, "")).await.expect("retry");
    assert_eq!(t.e.outbox_backlog().await.expect("backlog").dead, 0, "revived");
    let again = t.e.resolve_exception(&ex.id, &act(ResolutionAction::Retry, "")).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "already resolved: {again:?}");
    sync(&t).round().await.expect("round");
    assert_eq!(t.e.outbox_backlog().await.expect("backlog").dead, 1, "refused again");
    let view = t.e.get_order(&amazon_order).await.expect("get").expect("order");
    let open = view.exceptions.iter().filter(|x| x.status == "open" && x.kind == "sync_failed").count();
    assert_eq!(open, 1, "a new exception for the new refusal");
    assert_clean(&t.e).await;
}

async fn an_unknown_sku_keeps_the_order_on_hold_until_the_channel_sku_is_mapped(t: T) {
    use switchyard_channels::{ChannelLine, ChannelOrder, FulfilledBy};
    let shop = StandIn::start(kind("shopify")).await.expect("up");
    connect(&t.e, "shop", &shop, "import_only", &[]).await;
    let order = |ext: &str, skus: &[&str]| ChannelOrder {
        channel: "shop".into(),
        external_id: ext.into(),
        currency: "USD".into(),
        lines: skus
            .iter()
            .map(|s| ChannelLine { sku: (*s).into(), quantity: 2, unit_price: 1000, discount: 0 })
            .collect(),
        ship_to: common::portland(),
        service_level: None,
        pickup_location: None,
        payment: "paid".into(),
        status: switchyard_core::OrderStatus::Accepted,
        fulfilled_by: FulfilledBy::Merchant,
        shipping: 0,
        email: None,
    };
    let got =
        t.e.receive_channel_orders(
            &name("shop"),
            None,
            &[order("S-1", &["variant:42"]), order("S-2", &["variant:42", "MUG"])],
        )
        .await
        .expect("kept, not refused");
    let ids: Vec<String> = got.iter().map(|r| r.order_id.clone().expect("an order")).collect();
    let held = |v: &switchyard_store::OrderView| {
        let open: Vec<_> = v.exceptions.iter().filter(|x| x.status == "open").map(|x| x.kind.clone()).collect();
        (v.status.clone(), open)
    };
    for id in &ids {
        let v = t.e.get_order(id).await.expect("get").expect("order");
        assert_eq!(held(&v), ("on_hold".into(), vec!["unknown_sku".into()]));
        assert_eq!(v.allocated_units(), 0, "nothing routed or reserved while a SKU is unknown");
    }
    let avail = |s: &'static str| {
        let e = t.e.clone();
        async move { e.availability(&sku(s)).await.expect("availability").expect("sku").available }
    };
    assert_eq!((avail("TEE").await, avail("MUG").await), (10, 10));
    assert_clean(&t.e).await;

    t.e.map_channel_sku(&name("shop"), "variant:42", &sku("TEE"), Some("42")).await.expect("map");
    for id in &ids {
        let v = t.e.get_order(id).await.expect("get").expect("order");
        assert_eq!(held(&v), ("accepted".into(), vec![]), "mapping resumed it");
        assert!(v.lines.iter().all(|l| l.sku != "variant:42"), "its lines name our SKU now");
        let events = v.events.unwrap_or_default();
        assert!(events.iter().any(|e| e.kind == "sku_mapped"), "the timeline says why");
    }
    assert_eq!((avail("TEE").await, avail("MUG").await), (6, 8), "reserved once mapped");
    assert_clean(&t.e).await;

    // A channel SKU ours could never be (spaces, an accent) is kept too,
    // named as the channel spells it, and resumed by mapping that spelling.
    let got = t.e.receive_channel_orders(&name("shop"), None, &[order("S-3", &["Tasse bleue à café"])]).await;
    let id = got.expect("kept, not refused")[0].order_id.clone().expect("an order");
    let v = t.e.get_order(&id).await.expect("get").expect("order");
    assert_eq!(held(&v), ("on_hold".into(), vec!["unknown_sku".into()]));
    let message = &v.exceptions.iter().find(|x| x.kind == "unknown_sku").expect("exception").message;
    assert!(message.contains("\"Tasse bleue à café\""), "{message}");
    let again = t.e.receive_channel_orders(&name("shop"), None, &[order("S-3", &["Tasse bleue à café"])]).await;
    assert_eq!(again.expect("repeat")[0].order_id.as_deref(), Some(id.as_str()), "a repeat is the same order");
    t.e.map_channel_sku(&name("shop"), "Tasse bleue à café", &sku("MUG"), Some("77")).await.expect("map");
    let v = t.e.get_order(&id).await.expect("get").expect("order");
    assert_eq!(held(&v), ("accepted".into(), vec![]), "mapping its spelling resumed it");
    assert_eq!(v.lines[0].sku, "MUG");
    assert_eq!(avail("MUG").await, 6);
    assert_clean(&t.e).await;
}

fn kind(k: &str) -> switchyard_core::ChannelKind {
    switchyard_core::ChannelKind::parse(k).expect("kind")
}

async fn a_connection_test_refreshes_the_token_and_reads_once_and_names_the_failing_step(t: T) {
    let mut worker = sync(&t);
    // Each platform: a fresh token where it has one, then one read.
    for (k, probe) in [
        ("shopify", "/graphql.json"),
        ("woocommerce", "/wp-json/wc/v3/system_status"),
        ("amazon", "/sellers/v1/marketplaceParticipations"),
        ("ebay", "/sell/fulfillment/v1/order?limit=1"),
    ] {
        let standin = StandIn::start(kind(k)).await.expect("up");
        connect(&t.e, k, &standin, "import_only", &[]).await;
        let check = worker.check_connection(&name(k)).await.expect("check");
        assert!(check.ok, "{k}: {check:?}");
        assert_eq!((check.step.as_str(), check.http_status), ("request", Some(200)), "{k}");
        let paths: Vec<String> = standin.requests().iter().map(|r| r.path.clone()).collect();
        let token = usize::from(matches!(k, "amazon" | "ebay"));
        assert_eq!(paths.len(), token + 1, "{k}: {paths:?}");
        assert!(paths.last().is_some_and(|p| p.ends_with(probe)), "{k}: {paths:?}");
        assert!(standin.stock_requests().is_empty(), "{k}: a test changes nothing");
    }
    let status = t.e.channel_sync_status(&name("amazon")).await.expect("status");
    assert_eq!(status.backlog, 0, "import_only: nothing queued by a test");

    // A refresh token the platform refuses: the token step fails.
    let ebay = StandIn::start(kind("ebay")).await.expect("up");
    connect(&t.e, "ebay", &ebay, "live", &["NONE"]).await;
    ebay.script([Scripted::status(401)]);
    let check = worker.check_connection(&name("ebay")).await.expect("check");
    assert_eq!((check.ok, check.step.as_str()), (false, "token"), "{check:?}");
    assert!(check.message.contains("refused"), "{check:?}");
    // Credentials accepted but the read refused (a missing scope, say).
    ebay.script([Scripted::Normal, Scripted::status(403)]);
    let check = worker.check_connection(&name("ebay")).await.expect("check");
    assert_eq!((check.ok, check.step.as_str(), check.http_status), (false, "request", Some(403)), "{check:?}");
    let status = t.e.channel_sync_status(&name("ebay")).await.expect("status");
    assert!(status.recent_failures.iter().any(|a| a.purpose == "test" && a.http_status == Some(403)), "logged");

    // A Shopify connection without its access token cannot even ask.
    let shop = StandIn::start(kind("shopify")).await.expect("up");
    connect(&t.e, "shopify", &shop, "import_only", &[]).await;
    let (c, _) = t.e.channel_connection(&name("shopify")).await.expect("read").expect("channel");
    let gone = switchyard_engine::CredentialChange::Replace(BTreeMap::new());
    t.e.put_connection_with(&c, None, gone).await.expect("drop the token");
    shop.clear_requests();
    let check = worker.check_connection(&name("shopify")).await.expect("check");
    assert_eq!((check.ok, check.step.as_str()), (false, "settings"), "{check:?}");
    assert!(check.message.contains("access_token"), "{check:?}");
    assert!(shop.requests().is_empty(), "nothing was sent");

    // Kinds Switchyard never calls have nothing to test; unknown names are 404s.
    let pos = Channel::parse(ChannelDraft {
        name: "till".into(),
        kind: Some("pos".into()),
        active: true,
        ..ChannelDraft::default()
    })
    .expect("pos");
    t.e.put_connection(&pos, None, None).await.expect("pos");
    assert!(matches!(worker.check_connection(&name("till")).await, Err(Error::Invalid(_))));
    assert!(matches!(worker.check_connection(&name("nope")).await, Err(Error::NotFound { .. })));
}
