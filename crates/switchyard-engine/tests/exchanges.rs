//! Exchanges through the engine (issue 9), on both backends: an exchange
//! return authorized (by the policy or a person) creates a replacement order
//! in the same transaction that is routed and reserved like any order, held
//! unpaid (and never lapsing) while the return travels; short stock
//! backorders it visibly and never oversells; cancelling the return cancels
//! the replacement and gives its stock back; settling the return as
//! `exchanged` releases the replacement for fulfilment. The audit stays clean.

mod common;

use std::sync::Arc;

use common::{assert_clean, loc, sku, web_order};

use switchyard_core::returns::{NewReturn, Receipt, ReceiptDraft, ReturnDraft};
use switchyard_core::{NewShipment, OrderStatus, PaymentState, Quantity, Resolution, ResolutionAction, SkuDef};
use switchyard_engine::{Code, Config, Engine, IdGen, ManualClock, ReturnView};
use switchyard_store::testing::{warehouse, Backend, TestDb};
use switchyard_store::{ExceptionFilter, OrderFilter, OrderView};

both!(
    an_authorized_exchange_reserves_its_replacement_until_the_units_arrive,
    a_person_approving_an_exchange_creates_the_replacement_then,
    with_no_stock_the_replacement_is_backordered_never_oversold,
    cancelling_the_return_cancels_the_replacement_and_releases_its_stock,
    settling_the_exchange_releases_the_replacement_for_fulfilment,
    a_refund_that_is_no_exchange_creates_no_replacement,
);

/// 2026-11-30T12:00:00Z.
const NOW: i64 = 1_796_040_000_000;
const DAY: i64 = 86_400_000;
const EXCHANGE: &str = "[refund]\nmethod = \"exchange\"\n";

use common::Clocked as T;

async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(NOW));
    let e = Engine::open(&db.url, Config::default(), clock.clone(), IdGen::seeded(11)).await.expect("open engine");
    T { e: Arc::new(e), clock }
}

async fn location(e: &Engine, code: &str, priority: i32) {
    e.put_location(&warehouse(code, priority)).await.expect("location");
}

/// Location WH with `tees` TEE and 10 MUG; the return policy `policy`.
async fn shop(t: &T, tees: i64, policy: &str) {
    common::live_channel(t).await;
    location(t, "WH", 1).await;
    for s in ["TEE", "MUG"] {
        t.put_sku(&SkuDef::plain(sku(s), s)).await.expect("sku");
    }
    t.set_stock(&sku("TEE"), &loc("WH"), tees, None, "count").await.expect("stock");
    t.set_stock(&sku("MUG"), &loc("WH"), 10, None, "count").await.expect("stock");
    let v = t.save_return_policy(policy, "the shop's policy", "owner").await.expect("save").version;
    t.activate_return_policy(v, "owner").await.expect("activate");
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("quantity")
}

fn shipment(lines: &[(&str, i64)]) -> NewShipment {
    NewShipment {
        location: loc("WH"),
        lines: lines.iter().map(|(s, n)| (sku(s), q(*n))).collect(),
        carrier: None,
        tracking: None,
        tracking_url: None,
    }
}

/// An order of `lines` at 45.00 a unit, shipped whole from WH now.
async fn shipped_order(t: &T, ext: &str, lines: &[(&str, i64)]) -> String {
    let units: i64 = lines.iter().map(|(_, n)| n).sum();
    let (o, _) = t.create_order(&web_order(ext, lines, 4500, 4500 * units, PaymentState::Paid)).await.expect("order");
    assert_eq!(t.ship(&o.id, &shipment(lines)).await.expect("ship").status, "shipped");
    o.id
}

fn ask(order_id: &str, lines: &[(&str, i64)]) -> NewReturn {
    NewReturn::parse(ReturnDraft {
        order_id: order_id.into(),
        lines: lines.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
        reason: "wrong_size".into(),
        condition: None,
        note: String::new(),
        by: "customer".into(),
    })
    .expect("a well-formed request")
}

fn resellable(lines: &[(&str, i64)]) -> Receipt {
    Receipt::parse(ReceiptDraft {
        lines: lines.iter().map(|(s, n)| ((*s).to_owned(), *n, "resellable".to_owned())).collect(),
        note: String::new(),
        by: "dock".into(),
    })
    .expect("a well-formed receipt")
}

/// (on_hand, reserved) of a SKU at WH.
async fn position(e: &Engine, s: &str) -> (i64, i64) {
    let positions = e.sku_positions(&sku(s)).await.expect("positions");
    positions.into_iter().find(|(c, _)| c.as_str() == "WH").map_or((0, 0), |(_, p)| (p.on_hand, p.reserved))
}

fn return_kinds(r: &ReturnView) -> Vec<String> {
    r.events.as_ref().expect("events").iter().map(|e| e.kind.clone()).collect()
}

fn order_kinds(o: &OrderView) -> Vec<String> {
    o.events.as_ref().expect("events").iter().map(|e| e.kind.clone()).collect()
}

async fn order(t: &T, id: &str) -> OrderView {
    t.get_order(id).await.expect("read").expect("the order exists")
}

async fn replacement_of(t: &T, r: &ReturnView) -> OrderView {
    let id = r.replacement_order_id.as_deref().expect("the return names its replacement");
    order(t, id).await
}

/// (sku, quantity, allocated, backordered) per line.
fn lines(o: &OrderView) -> Vec<(String, i64, i64, i64)> {
    o.lines
        .iter()
        .map(|l| {
            (l.sku.clone(), l.quantity, l.allocations.iter().map(|a| a.quantity - a.released).sum(), l.backordered)
        })
        .collect()
}

async fn open_kinds(t: &T, order_id: &str) -> Vec<String> {
    let f = ExceptionFilter {
        status: Some("open".into()),
        order_id: Some(order_id.into()),
        limit: 50,
        ..Default::default()
    };
    t.list_exceptions(&f).await.expect("exceptions").into_iter().map(|e| e.kind).collect()
}

async fn an_authorized_exchange_reserves_its_replacement_until_the_units_arrive(t: T) {
    shop(&t, 10, EXCHANGE).await;
    let origin = shipped_order(&t, "x1", &[("TEE", 2), ("MUG", 1)]).await;
    assert_eq!(position(&t, "TEE").await, (8, 0));
    let r = t.request_return(&ask(&origin, &[("TEE", 2)])).await.expect("request");
    assert_eq!((r.status.as_str(), r.decision.refund_method.as_str()), ("authorized", "exchange"));
    let rma = r.rma.clone().expect("an RMA");
    let rep = replacement_of(&t, &r).await;
    assert_eq!((rep.channel.as_str(), rep.external_id.as_str()), ("exchange", rma.as_str()));
    assert_eq!((rep.status.as_str(), rep.payment.as_str()), ("pending_payment", "pending"));
    assert_eq!(lines(&rep), [("TEE".to_owned(), 2, 2, 0)], "the returned units, reserved");
    assert_eq!(rep.total, 2 * 4500, "priced as the original line");
    assert_eq!(rep.ship_to.postal_code, "97205", "sent where the original went");
    assert_eq!(rep.reservation_expires_at, None, "the hold does not lapse while the return travels");
    assert_eq!(position(&t, "TEE").await, (8, 2), "reserved at authorization");
    assert!(return_kinds(&r).contains(&"replacement_created".to_owned()), "{:?}", r.events);
    assert!(order_kinds(&rep).contains(&"exchange".to_owned()), "{:?}", rep.events);
    assert!(order_kinds(&order(&t, &origin).await).contains(&"exchange_replacement".to_owned()));
    // Weeks later the sweeper has not released it.
    t.clock.set(NOW + 30 * DAY);
    t.sweep().await.expect("sweep");
    let rep = replacement_of(&t, &r).await;
    assert_eq!(rep.status, "pending_payment");
    assert_eq!(position(&t, "TEE").await, (8, 2));
    assert!(!on_pick_list(&t, &rep.id).await, "not released for fulfilment before the units arrive");
    assert_clean(&t).await;
}

async fn a_person_approving_an_exchange_creates_the_replacement_then(t: T) {
    let policy = "[refund]\nmethod = \"exchange\"\nauto_approve_up_to = { minor = 1000, currency = \"USD\" }\n";
    shop(&t, 10, policy).await;
    let origin = shipped_order(&t, "x2", &[("TEE", 1)]).await;
    let r = t.request_return(&ask(&origin, &[("TEE", 1)])).await.expect("request");
    assert_eq!((r.status.as_str(), r.decision.outcome.as_str()), ("requested", "needs_review"));
    assert_eq!(r.replacement_order_id, None, "nothing is reserved before the return is authorized");
    assert_eq!(position(&t, "TEE").await, (9, 0));
    let r = t.review_return(&r.id, true, "ana", "good customer").await.expect("approve");
    assert_eq!(r.status, "authorized");
    let rep = replacement_of(&t, &r).await;
    assert_eq!(rep.external_id, r.rma.clone().expect("rma"));
    assert_eq!(lines(&rep), [("TEE".to_owned(), 1, 1, 0)]);
    assert_eq!(position(&t, "TEE").await, (9, 1));
    assert_clean(&t).await;
}

async fn with_no_stock_the_replacement_is_backordered_never_oversold(t: T) {
    shop(&t, 1, EXCHANGE).await;
    let origin = shipped_order(&t, "x3", &[("TEE", 1)]).await;
    assert_eq!(position(&t, "TEE").await, (0, 0), "the last one was sold");
    let r = t.request_return(&ask(&origin, &[("TEE", 1)])).await.expect("request");
    assert_eq!(r.status, "authorized");
    let rep = replacement_of(&t, &r).await;
    assert_eq!(lines(&rep), [("TEE".to_owned(), 1, 0, 1)], "backordered, not oversold");
    assert_eq!(rep.status, "pending_payment");
    assert_eq!(open_kinds(&t, &rep.id).await, ["backordered"], "visible in the exception queue");
    assert_eq!(position(&t, "TEE").await, (0, 0));
    let created = r.events.as_ref().expect("events").iter().find(|e| e.kind == "replacement_created").expect("noted");
    assert!(created.message.contains("1 unit(s) backordered"), "{}", created.message);
    assert_clean(&t).await;
    // The returned unit arrives and goes back on sale; the exchange settles;
    // the replacement stays backordered (visibly) until a person retries it.
    t.receive_return(&r.id, &resellable(&[("TEE", 1)])).await.expect("receive");
    assert_eq!(position(&t, "TEE").await, (1, 0));
    let r = t.refund_return(&r.id, "ana", "").await.expect("settle");
    assert_eq!(r.status, "exchanged");
    let rep = replacement_of(&t, &r).await;
    assert_eq!((rep.status.as_str(), rep.payment.as_str()), ("backordered", "paid"));
    let exception = rep.exceptions.iter().find(|e| e.kind == "backordered" && e.status == "open").expect("open");
    let retry = Resolution {
        action: ResolutionAction::Retry,
        actor: "ana".into(),
        note: "the returned unit is back".into(),
        address: None,
        location: None,
    };
    t.resolve_exception(&exception.id, &retry).await.expect("retry");
    let rep = replacement_of(&t, &r).await;
    assert_eq!((rep.status.as_str(), lines(&rep)), ("accepted", vec![("TEE".to_owned(), 1, 1, 0)]));
    assert_eq!(position(&t, "TEE").await, (1, 1));
    assert_clean(&t).await;
}

async fn cancelling_the_return_cancels_the_replacement_and_releases_its_stock(t: T) {
    shop(&t, 10, EXCHANGE).await;
    let origin = shipped_order(&t, "x4", &[("TEE", 2)]).await;
    let r = t.request_return(&ask(&origin, &[("TEE", 2)])).await.expect("request");
    let r = t.return_in_transit(&r.id, Some("1Z999"), "customer").await.expect("in transit");
    assert_eq!(position(&t, "TEE").await, (8, 2));
    // Who and why are required; nothing changes without them.
    let err = t.cancel_return(&r.id, "ana", " ").await.expect_err("no reason");
    assert_eq!(err.code(), Code::InvalidBody);
    assert_eq!(position(&t, "TEE").await, (8, 2));
    let rma = r.rma.clone().expect("rma");
    let r = t.cancel_return(&rma, "ana", "the customer kept them").await.expect("cancel");
    assert_eq!(r.status, "cancelled");
    let rep = replacement_of(&t, &r).await;
    assert_eq!(rep.status, "cancelled");
    assert_eq!(position(&t, "TEE").await, (8, 0), "the replacement's reservation is released");
    let kinds = return_kinds(&r);
    assert!(kinds.contains(&"cancelled".to_owned()) && kinds.contains(&"replacement".to_owned()), "{kinds:?}");
    assert!(order_kinds(&order(&t, &origin).await).contains(&"return_cancelled".to_owned()));
    // Final: nothing more happens to it.
    let err = t.receive_return(&r.id, &resellable(&[("TEE", 2)])).await.expect_err("cancelled");
    assert_eq!(err.code(), Code::IllegalTransition);
    let err = t.cancel_return(&r.id, "ana", "again").await.expect_err("cancelled already");
    assert_eq!(err.code(), Code::IllegalTransition);
    assert_eq!(position(&t, "TEE").await, (8, 0));
    // The units may be asked for again: a new RMA, a new replacement.
    let again = t.request_return(&ask(&origin, &[("TEE", 2)])).await.expect("asked again");
    assert_eq!(again.status, "authorized");
    assert_ne!(again.rma, r.rma);
    assert_eq!(replacement_of(&t, &again).await.status, "pending_payment");
    assert_eq!(position(&t, "TEE").await, (8, 2));
    // A return whose units arrived is not cancelled.
    t.receive_return(&again.id, &resellable(&[("TEE", 2)])).await.expect("receive");
    let err = t.cancel_return(&again.id, "ana", "too late").await.expect_err("received");
    assert_eq!(err.code(), Code::IllegalTransition);
    assert_clean(&t).await;
}

async fn settling_the_exchange_releases_the_replacement_for_fulfilment(t: T) {
    shop(&t, 10, EXCHANGE).await;
    let origin = shipped_order(&t, "x5", &[("TEE", 1), ("MUG", 1)]).await;
    let r = t.request_return(&ask(&origin, &[("TEE", 1)])).await.expect("request");
    let rep_id = r.replacement_order_id.clone().expect("replacement");
    let r = t.issue_return_label(&r.id, "customer").await.expect("label");
    let r = t.return_in_transit(&r.id, None, "customer").await.expect("in transit");
    assert_eq!(order(&t, &rep_id).await.status, "pending_payment", "waiting while the return travels");
    t.clock.set(NOW + 5 * DAY);
    let r = t.receive_return(&r.id, &resellable(&[("TEE", 1)])).await.expect("receive");
    assert_eq!(r.status, "dispositioned");
    assert_eq!(position(&t, "TEE").await, (10, 1), "restocked; the replacement's unit still reserved");
    let r = t.refund_return(&r.id, "ana", "").await.expect("settle");
    assert_eq!(r.status, "exchanged");
    assert_eq!(r.replacement_order_id.as_deref(), Some(rep_id.as_str()), "the order stays linked");
    let rep = order(&t, &rep_id).await;
    assert_eq!((rep.status.as_str(), rep.payment.as_str()), ("accepted", "paid"), "released for fulfilment");
    assert!(order_kinds(&rep).contains(&"exchange_released".to_owned()), "{:?}", rep.events);
    let settled = r.events.as_ref().expect("events").iter().find(|e| e.kind == "exchanged").expect("settled");
    assert!(settled.message.contains(&rep_id), "{}", settled.message);
    assert!(on_pick_list(&t, &rep_id).await, "on WH's pick list");
    let shipped = t.ship(&rep_id, &shipment(&[("TEE", 1)])).await.expect("ship the replacement");
    assert_eq!(shipped.status, "shipped");
    assert_eq!(position(&t, "TEE").await, (9, 0));
    let r = t.close_return(&r.id, "ana", "done").await.expect("close");
    assert_eq!(r.status, "closed");
    assert_eq!(order(&t, &rep_id).await.status, OrderStatus::Shipped.as_str(), "closing leaves it alone");
    assert_clean(&t).await;
}

async fn a_refund_that_is_no_exchange_creates_no_replacement(t: T) {
    shop(&t, 10, "[refund]\nmethod = \"store_credit\"\n").await;
    let origin = shipped_order(&t, "x6", &[("TEE", 1)]).await;
    let r = t.request_return(&ask(&origin, &[("TEE", 1)])).await.expect("request");
    assert_eq!(r.status, "authorized");
    assert_eq!(r.replacement_order_id, None);
    assert_eq!(position(&t, "TEE").await, (9, 0));
    let f = OrderFilter { status: None, channel: Some("exchange".into()), limit: 10, cursor: None };
    assert!(t.list_orders(&f).await.expect("orders").orders.is_empty());
    assert_clean(&t).await;
}

/// Whether WH's pick list offers the order.
async fn on_pick_list(t: &T, order_id: &str) -> bool {
    let picks = t.pick_list(&loc("WH")).await.expect("pick list");
    picks.orders.iter().any(|o| o.id == order_id)
}
