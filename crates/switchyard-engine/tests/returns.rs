//! Returns through the engine (issue 9), on both backends: a request built
//! from a shipped order and decided by the policy in force, a person's
//! override of what the policy did not approve, receipts that restock
//! resellable units exactly once, refunds, and every refusal changing
//! nothing.

mod common;

use std::sync::Arc;

use common::{assert_clean, loc, sku, web_order};

use switchyard_core::outbox::Message;
use switchyard_core::returns::{NewReturn, Receipt, ReceiptDraft, ReturnDraft};
use switchyard_core::{
    Address, Component, Location, LocationKind, NewShipment, PaymentState, Quantity, Resolution, ResolutionAction,
    ServiceLevel, SkuDef,
};
use switchyard_engine::{Code, Config, Engine, Error, IdGen, ManualClock, ReturnFilter, ReturnView};
use switchyard_store::testing::{Backend, TestDb};
use switchyard_store::ExceptionFilter;

both!(
    a_return_within_the_window_is_authorized_with_an_rma,
    past_the_window_a_person_approves_it_and_is_logged,
    a_picked_up_order_past_its_window_is_rejected,
    a_rejected_return_opens_an_exception_a_person_may_override,
    more_than_was_shipped_is_refused_and_nothing_is_stored,
    receiving_restocks_resellable_units_exactly_once,
    a_bundle_comes_back_as_its_components,
    illegal_transitions_are_refused,
    above_the_auto_approve_limit_needs_review,
    return_policy_versions_are_validated,
    concurrent_requests_never_return_a_unit_twice,
    return_metrics_count_returned_orders_and_the_time_to_refund,
);

/// 2026-11-30T12:00:00Z.
const NOW: i64 = 1_796_040_000_000;
const DAY: i64 = 86_400_000;

use common::Clocked as T;

impl T {
    fn at(&self, ms: i64) {
        self.clock.set(ms);
    }
}

async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(NOW));
    let e = Engine::open(&db.url, Config::default(), clock.clone(), IdGen::seeded(9)).await.expect("open engine");
    T { e: Arc::new(e), clock }
}

async fn location(e: &Engine, code: &str, priority: i32) {
    place(e, code, priority, false).await;
}

async fn place(e: &Engine, code: &str, priority: i32, can_pickup: bool) {
    let l = Location {
        code: loc(code),
        name: code.into(),
        kind: LocationKind::Warehouse,
        address: Address {
            line1: "1 Main".into(),
            city: "Reno".into(),
            region: "NV".into(),
            postal_code: "89501".into(),
            country: "US".into(),
        },
        lat: None,
        lon: None,
        can_ship: true,
        can_pickup,
        priority,
        active: true,
        lead_time_days: 0,
        timezone: "UTC".into(),
    };
    e.put_location(&l).await.expect("location");
}

/// Locations A (tried first) and WH; TEE, MUG, HAT; TEE stocked only at
/// WH, so orders of it ship from there.
async fn shop(e: &Engine) {
    common::live_channel(e).await;
    location(e, "A", 1).await;
    location(e, "WH", 2).await;
    for s in ["TEE", "MUG", "HAT"] {
        e.put_sku(&SkuDef::plain(sku(s), s)).await.expect("sku");
    }
    e.set_stock(&sku("TEE"), &loc("WH"), 10, None, "count").await.expect("stock");
    e.set_stock(&sku("MUG"), &loc("WH"), 10, None, "count").await.expect("stock");
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("quantity")
}

/// An order of `lines` at 45.00 a unit, shipped whole from WH now.
async fn shipped_order(t: &T, ext: &str, lines: &[(&str, i64)]) -> String {
    let units: i64 = lines.iter().map(|(_, n)| n).sum();
    let (o, _) = t.create_order(&web_order(ext, lines, 4500, 4500 * units, PaymentState::Paid)).await.expect("order");
    let shipment = NewShipment {
        location: loc("WH"),
        lines: lines.iter().map(|(s, n)| (sku(s), q(*n))).collect(),
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    assert_eq!(t.ship(&o.id, &shipment).await.expect("ship").status, "shipped");
    o.id
}

fn ask(order_id: &str, lines: &[(&str, i64)], reason: &str) -> NewReturn {
    NewReturn::parse(ReturnDraft {
        order_id: order_id.into(),
        lines: lines.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
        reason: reason.into(),
        condition: None,
        note: String::new(),
        by: "customer".into(),
    })
    .expect("a well-formed request")
}

fn receipt(lines: &[(&str, i64, &str)]) -> Receipt {
    Receipt::parse(ReceiptDraft {
        lines: lines.iter().map(|(s, n, g)| ((*s).to_owned(), *n, (*g).to_owned())).collect(),
        note: String::new(),
        by: "dock".into(),
    })
    .expect("a well-formed receipt")
}

async fn on_hand(e: &Engine, s: &str, l: &str) -> i64 {
    let positions = e.sku_positions(&sku(s)).await.expect("positions");
    positions.into_iter().find(|(c, _)| c.as_str() == l).map_or(0, |(_, p)| p.on_hand)
}

fn kinds(r: &ReturnView) -> Vec<String> {
    r.events.as_ref().expect("events").iter().map(|e| e.kind.clone()).collect()
}

async fn authorized(t: &T, order_id: &str, lines: &[(&str, i64)]) -> ReturnView {
    let r = t.request_return(&ask(order_id, lines, "wrong_size")).await.expect("request");
    assert_eq!(r.status, "authorized", "{r:?}");
    r
}

async fn a_return_within_the_window_is_authorized_with_an_rma(t: T) {
    shop(&t).await;
    let order = shipped_order(&t, "r1", &[("TEE", 2)]).await;
    t.at(NOW + 10 * DAY);
    let r = t.request_return(&ask(&order, &[("TEE", 1)], "Wrong size")).await.expect("request");
    assert_eq!((r.status.as_str(), r.decision.outcome.as_str()), ("authorized", "approved"));
    assert_eq!(r.rma.as_deref(), Some("RMA-261210-0001"), "the day it was authorized, first of the day");
    assert!(r.decision.explanation.starts_with("Approved: within the 30-day window"), "{}", r.decision.explanation);
    assert_eq!((r.reason.as_str(), r.reason_text.as_str()), ("wrong_size", "Wrong size"));
    assert_eq!((r.refund, r.currency.as_str(), r.decision.policy_version), (4500, "USD", None));
    assert_eq!(r.destination, "WH", "back to the location that shipped it");
    assert_eq!((r.lines.len(), r.lines[0].quantity, r.lines[0].received), (1, 1, 0));
    assert_eq!(kinds(&r), vec!["requested", "decided", "authorized"]);
    assert_eq!(r.exception_id, None);
    // The same return read by its RMA number, the second one numbered on.
    let by_rma = t.get_return("rma-261210-0001").await.expect("read").expect("found by RMA");
    assert_eq!(by_rma.id, r.id);
    let second = authorized(&t, &order, &[("TEE", 1)]).await;
    assert_eq!(second.rma.as_deref(), Some("RMA-261210-0002"));
    let o = t.get_order(&order).await.expect("read").expect("order");
    let told = o.events.expect("events").iter().filter(|e| e.kind == "return_requested").count();
    assert_eq!(told, 2, "each request is on the order's timeline");
    let listed = t.list_returns(&ReturnFilter { order_id: Some(order), limit: 10, ..Default::default() }).await;
    assert_eq!(listed.expect("list").len(), 2);
    assert_clean(&t).await;
}

async fn past_the_window_a_person_approves_it_and_is_logged(t: T) {
    shop(&t).await;
    let order = shipped_order(&t, "r2", &[("TEE", 1)]).await;
    t.at(NOW + 45 * DAY);
    let r = t.request_return(&ask(&order, &[("TEE", 1)], "changed_mind")).await.expect("request");
    // Only the shipment time is known (no delivery tracking yet): a person decides.
    assert_eq!((r.status.as_str(), r.decision.outcome.as_str(), r.rma.as_deref()), ("requested", "needs_review", None));
    assert!(r.decision.explanation.contains("shipped 45 days ago"), "{}", r.decision.explanation);
    let exception_id = r.exception_id.clone().expect("an exception asks a person");
    let e = t.get_exception(&exception_id).await.expect("read").expect("exception");
    assert_eq!(
        (e.kind.as_str(), e.status.as_str(), e.order_id.as_deref()),
        ("return_out_of_policy", "open", Some(&*order))
    );
    assert_eq!(e.actions, vec!["approve_return", "reject_return"]);
    // The order shipped and is closed; an open return exception is no drift.
    assert_clean(&t).await;

    let act = |action, note: &str| Resolution {
        action,
        actor: "ana".into(),
        note: note.into(),
        address: None,
        location: None,
    };
    let refused = t.resolve_exception(&exception_id, &act(ResolutionAction::ApproveReturn, " ")).await;
    assert_eq!(refused.expect_err("a reason is needed").code(), Code::InvalidRequest);
    let wrong = t.resolve_exception(&exception_id, &act(ResolutionAction::Retry, "x")).await;
    assert_eq!(wrong.expect_err("not an action for returns").code(), Code::InvalidRequest);
    assert_eq!(t.get_return(&r.id).await.expect("read").expect("return").status, "requested", "nothing changed");

    t.at(NOW + 45 * DAY + 60_000);
    let e = t.resolve_exception(&exception_id, &act(ResolutionAction::ApproveReturn, "loyal customer")).await;
    let e = e.expect("approved");
    assert_eq!((e.status.as_str(), e.resolved_by.as_deref()), ("resolved", Some("ana")));
    assert_eq!((e.resolution.as_deref(), e.note.as_deref()), (Some("approve_return"), Some("loyal customer")));
    let log = e.log.expect("log");
    let last = log.last().expect("an entry");
    assert_eq!(
        (last.actor.as_str(), last.action.as_str(), last.note.as_str()),
        ("ana", "approve_return", "loyal customer")
    );
    let r = t.get_return(&r.id).await.expect("read").expect("return");
    assert_eq!(r.status, "authorized");
    assert_eq!(r.rma.as_deref(), Some("RMA-270114-0001"));
    let approval = r.events.as_ref().expect("events").iter().find(|e| e.actor == "ana").expect("ana's entry").clone();
    assert_eq!(approval.kind, "authorized");
    assert_eq!(approval.message, "ana approved the return: loyal customer");
    // Approving again is not a move the workflow has.
    let again = t.review_return(&r.id, true, "ana", "again").await.expect_err("already authorized");
    assert_eq!(again.code(), Code::IllegalTransition);
    assert_clean(&t).await;
}

async fn a_picked_up_order_past_its_window_is_rejected(t: T) {
    shop(&t).await;
    place(&t, "STORE", 3, true).await;
    t.set_stock(&sku("TEE"), &loc("STORE"), 5, None, "count").await.expect("stock");
    let mut pickup = web_order("p1", &[("TEE", 2)], 4500, 9000, PaymentState::Paid);
    pickup.service_level = ServiceLevel::Pickup;
    pickup.pickup_location = Some(loc("STORE"));
    let (o, _) = t.create_order(&pickup).await.expect("order");
    t.ready_for_pickup(&o.id, &loc("STORE")).await.expect("ready");
    t.at(NOW + DAY);
    assert_eq!(t.picked_up(&o.id).await.expect("picked up").status, "completed");
    // Handed over in person: the delivery time is known, and the whole
    // 30th day after it is inside the window.
    t.at(NOW + 31 * DAY);
    let inside = t.request_return(&ask(&o.id, &[("TEE", 1)], "changed_mind")).await.expect("request");
    assert_eq!((inside.status.as_str(), inside.destination.as_str()), ("authorized", "STORE"));
    t.at(NOW + 31 * DAY + 1);
    let late = t.request_return(&ask(&o.id, &[("TEE", 1)], "changed_mind")).await.expect("request");
    assert_eq!((late.status.as_str(), late.decision.outcome.as_str()), ("rejected", "rejected"));
    assert_eq!(late.decision.explanation, "Rejected: delivered more than 30 days ago; the return window is 30 days");
    let exception_id = late.exception_id.clone().expect("a person may override it");
    let e = t.get_exception(&exception_id).await.expect("read").expect("exception");
    assert_eq!((e.kind.as_str(), e.status.as_str()), ("return_out_of_policy", "open"));
    assert!(e.message.contains(&late.decision.explanation), "{}", e.message);
    assert_clean(&t).await;
}

/// The example policy, as a shop would write it (late_delivery is not an
/// accepted reason; refunds above 150.00 USD wait for a review).
const EXAMPLE: &str = include_str!("../../switchyard-core/src/returns/example_return_policy.toml");

async fn a_rejected_return_opens_an_exception_a_person_may_override(t: T) {
    shop(&t).await;
    let v = t.save_return_policy(EXAMPLE, "the shop's policy", "owner").await.expect("save").version;
    t.activate_return_policy(v, "owner").await.expect("activate");
    let order = shipped_order(&t, "r3", &[("TEE", 2)]).await;
    t.at(NOW + 3 * DAY);
    let r = t.request_return(&ask(&order, &[("TEE", 1)], "late_delivery")).await.expect("request");
    assert_eq!((r.status.as_str(), r.decision.outcome.as_str()), ("rejected", "rejected"));
    assert_eq!(r.decision.explanation, "Rejected: late_delivery is not an accepted return reason");
    assert_eq!(r.decision.policy_version, Some(v));
    let exception_id = r.exception_id.clone().expect("an exception");
    let filter = ExceptionFilter { kind: Some("return_out_of_policy".into()), limit: 10, ..Default::default() };
    assert_eq!(t.list_exceptions(&filter).await.expect("list").len(), 1);
    // A rejected return holds no units: the customer may ask again for both.
    let other = t.request_return(&ask(&order, &[("TEE", 2)], "late_delivery")).await.expect("ask again");
    assert_eq!(other.status, "rejected");

    // A person upholds the second rejection and overrides the first.
    let upheld = t.review_return(&other.id, false, "ben", "carrier was on time").await.expect("upheld");
    assert_eq!((upheld.status.as_str(), upheld.rma.as_deref()), ("rejected", None));
    assert!(kinds(&upheld).contains(&"rejection_upheld".to_owned()));
    let overridden = t.review_return(&r.id, true, "ana", "parcel was 9 days late").await.expect("override");
    assert_eq!(overridden.status, "authorized");
    assert!(overridden.rma.is_some());
    let e = t.get_exception(&exception_id).await.expect("read").expect("exception");
    assert_eq!((e.status.as_str(), e.resolved_by.as_deref()), ("resolved", Some("ana")));
    assert_eq!(e.note.as_deref(), Some("parcel was 9 days late"));
    // The upheld rejection can still be overridden, but not for units the
    // first return now holds (one of two shipped).
    let too_many = t.review_return(&other.id, true, "ana", "both").await.expect_err("1 unit left");
    assert_eq!(too_many.code(), Code::ExceedsReturnable, "{too_many}");
    assert_eq!(t.get_return(&other.id).await.expect("read").expect("return").status, "rejected");
    assert_clean(&t).await;
}

async fn more_than_was_shipped_is_refused_and_nothing_is_stored(t: T) {
    shop(&t).await;
    let order = shipped_order(&t, "r4", &[("TEE", 2), ("MUG", 1)]).await;
    let before = t.get_order(&order).await.expect("read").expect("order").events.expect("events").len();
    let cases: [(&[(&str, i64)], Code); 3] = [
        (&[("TEE", 3)], Code::ExceedsReturnable),
        (&[("TEE", 1), ("MUG", 2)], Code::ExceedsReturnable),
        (&[("HAT", 1)], Code::InvalidBody),
    ];
    for (lines, code) in cases {
        let err = t.request_return(&ask(&order, lines, "defective")).await.expect_err("refused");
        assert_eq!(err.code(), code, "{lines:?}: {err}");
    }
    let err = t.request_return(&ask(&order, &[("TEE", 3)], "defective")).await.expect_err("refused");
    assert_eq!(err.to_string(), "cannot return 3 of TEE: 2 shipped and not yet returned");
    // An order nothing of which shipped yet, and one that does not exist.
    let (unshipped, _) =
        t.create_order(&web_order("r5", &[("TEE", 1)], 4500, 4500, PaymentState::Paid)).await.expect("o");
    let err = t.request_return(&ask(&unshipped.id, &[("TEE", 1)], "defective")).await.expect_err("nothing shipped");
    assert_eq!(err.code(), Code::ExceedsReturnable);
    let err = t.request_return(&ask("no-such-order", &[("TEE", 1)], "defective")).await.expect_err("no order");
    assert!(matches!(err, Error::NotFound { what: "order", .. }), "{err}");
    assert!(t.list_returns(&ReturnFilter { limit: 10, ..Default::default() }).await.expect("list").is_empty());
    let after = t.get_order(&order).await.expect("read").expect("order").events.expect("events").len();
    assert_eq!(after, before, "nothing written to the order either");
    // What was returned before counts: 2 asked, then 1 more is too many.
    authorized(&t, &order, &[("TEE", 2)]).await;
    let err = t.request_return(&ask(&order, &[("TEE", 1)], "defective")).await.expect_err("all returned");
    assert_eq!(err.to_string(), "cannot return 1 of TEE: 0 shipped and not yet returned");
    assert_clean(&t).await;
}

async fn atp_messages(e: &Engine) -> Vec<String> {
    let claimed = e.claim_outbox("atp_changed", "test", 100, 60_000).await.expect("claim");
    let mut skus = Vec::new();
    for c in claimed {
        e.ack_outbox(c.id, "test").await.expect("ack");
        if let Message::AtpChanged { sku } = c.message {
            skus.push(sku);
        }
    }
    skus
}

async fn receiving_restocks_resellable_units_exactly_once(t: T) {
    shop(&t).await;
    let order = shipped_order(&t, "r6", &[("TEE", 3)]).await;
    let r = authorized(&t, &order, &[("TEE", 3)]).await;
    let stock_before = on_hand(&t, "TEE", "WH").await;
    let ledger_before = t.audit().await.expect("audit").ledger_entries;
    atp_messages(&t).await;

    t.at(NOW + 5 * DAY);
    let rma = r.rma.clone().expect("rma");
    let got = t.receive_return(&rma, &receipt(&[("TEE", 1, "resellable"), ("TEE", 1, "damaged")])).await;
    let got = got.expect("received by its RMA, as a scanner types it");
    assert_eq!(got.status, "dispositioned");
    assert_eq!(on_hand(&t, "TEE", "WH").await, stock_before + 1, "only the resellable unit is back on sale");
    assert_eq!(t.audit().await.expect("audit").ledger_entries, ledger_before + 1, "one return_restock entry");
    assert_eq!(atp_messages(&t).await, vec!["TEE"], "the channels hear of the new level");
    assert_eq!(got.lines[0].received, 2);
    let receipts: Vec<(&str, &str, i64)> =
        got.lines[0].receipts.iter().map(|r| (r.grade.as_str(), r.disposition.as_str(), r.quantity)).collect();
    assert_eq!(receipts, vec![("resellable", "restock", 1), ("damaged", "inspection", 1)]);
    assert_eq!(kinds(&got)[3..], ["received", "inspected", "dispositioned"]);
    assert!(got.events.as_ref().expect("events").iter().skip(3).all(|e| e.actor == "dock"));
    assert_clean(&t).await;

    // A second scan of the same RMA restocks nothing.
    let again = t.receive_return(&r.id, &receipt(&[("TEE", 1, "resellable")])).await.expect_err("received once");
    assert_eq!(again.code(), Code::IllegalTransition);
    assert_eq!(on_hand(&t, "TEE", "WH").await, stock_before + 1);
    assert!(atp_messages(&t).await.is_empty());

    // Two of three came back: the refund is for those two, recorded once.
    let paid = t.refund_return(&r.id, "ana", "").await.expect("refund");
    assert_eq!((paid.status.as_str(), paid.refunded, paid.refund), ("refunded", Some(9000), 13_500));
    let twice = t.refund_return(&r.id, "ana", "").await.expect_err("refunded once");
    assert_eq!(twice.code(), Code::IllegalTransition);
    let damaged_only = authorized(&t, &shipped_order(&t, "r7", &[("TEE", 1)]).await, &[("TEE", 1)]).await;
    let before = on_hand(&t, "TEE", "WH").await;
    t.receive_return(&damaged_only.id, &receipt(&[("TEE", 1, "defective")])).await.expect("received");
    assert_eq!(on_hand(&t, "TEE", "WH").await, before, "a defective unit stays off sale");
    // More than the return expects, or a SKU not on it, changes nothing.
    let spare = authorized(&t, &shipped_order(&t, "r8", &[("TEE", 1)]).await, &[("TEE", 1)]).await;
    let over = t.receive_return(&spare.id, &receipt(&[("TEE", 2, "resellable")])).await.expect_err("over");
    assert_eq!(over.code(), Code::ExceedsReturnable);
    let other = t.receive_return(&spare.id, &receipt(&[("MUG", 1, "resellable")])).await.expect_err("not on it");
    assert_eq!(other.code(), Code::InvalidBody);
    let spare = t.get_return(&spare.id).await.expect("read").expect("return");
    assert_eq!((spare.status.as_str(), spare.lines[0].received), ("authorized", 0));
    assert_clean(&t).await;
}

async fn a_bundle_comes_back_as_its_components(t: T) {
    shop(&t).await;
    let kit = SkuDef {
        components: vec![Component { sku: sku("TEE"), quantity: q(1) }, Component { sku: sku("MUG"), quantity: q(2) }],
        ..SkuDef::plain(sku("KIT"), "Kit")
    };
    t.put_sku(&kit).await.expect("bundle");
    let order = shipped_order(&t, "r9", &[("KIT", 1)]).await;
    let (tee, mug) = (on_hand(&t, "TEE", "WH").await, on_hand(&t, "MUG", "WH").await);
    let r = authorized(&t, &order, &[("KIT", 1)]).await;
    t.receive_return(&r.id, &receipt(&[("KIT", 1, "resellable")])).await.expect("received");
    assert_eq!((on_hand(&t, "TEE", "WH").await, on_hand(&t, "MUG", "WH").await), (tee + 1, mug + 2));
    assert_clean(&t).await;
}

async fn illegal_transitions_are_refused(t: T) {
    shop(&t).await;
    let order = shipped_order(&t, "r10", &[("TEE", 2)]).await;
    let ok = authorized(&t, &order, &[("TEE", 1)]).await;
    let early = t.refund_return(&ok.id, "ana", "").await.expect_err("nothing received yet");
    assert_eq!(early.code(), Code::IllegalTransition);
    assert_eq!(early.to_string(), "a return that is authorized cannot become refunded");
    let reject = t.review_return(&ok.id, false, "ana", "changed my mind").await.expect_err("authorized already");
    assert_eq!(reject.code(), Code::IllegalTransition);
    t.at(NOW + 40 * DAY);
    let waiting = t.request_return(&ask(&order, &[("TEE", 1)], "wrong_size")).await.expect("request");
    assert_eq!(waiting.status, "requested");
    let early = t.receive_return(&waiting.id, &receipt(&[("TEE", 1, "resellable")])).await.expect_err("not authorized");
    assert_eq!(early.code(), Code::IllegalTransition);
    t.review_return(&waiting.id, false, "ana", "too late").await.expect("rejected");
    let rejected = t.receive_return(&waiting.id, &receipt(&[("TEE", 1, "resellable")])).await.expect_err("rejected");
    assert_eq!(rejected.code(), Code::IllegalTransition);
    let missing = t.receive_return("RMA-000000-0000", &receipt(&[("TEE", 1, "resellable")])).await;
    assert!(matches!(missing, Err(Error::NotFound { what: "return", .. })));
    let view = t.get_return(&waiting.id).await.expect("read").expect("return");
    assert_eq!((view.status.as_str(), view.lines[0].received), ("rejected", 0));
    assert_clean(&t).await;
}

async fn above_the_auto_approve_limit_needs_review(t: T) {
    shop(&t).await;
    let policy = "[refund]\nauto_approve_up_to = { minor = 5000, currency = \"USD\" }\n";
    let v = t.save_return_policy(policy, "review big refunds", "owner").await.expect("save").version;
    t.activate_return_policy(v, "owner").await.expect("activate");
    let order = shipped_order(&t, "r11", &[("TEE", 3)]).await;
    let big = t.request_return(&ask(&order, &[("TEE", 2)], "defective")).await.expect("request");
    assert_eq!((big.status.as_str(), big.decision.outcome.as_str()), ("requested", "needs_review"));
    assert_eq!(big.decision.explanation, "Needs review: refund 90.00 USD is above the auto-approve limit of 50.00 USD");
    assert!(big.exception_id.is_some());
    let small = t.request_return(&ask(&order, &[("TEE", 1)], "defective")).await.expect("request");
    assert_eq!(small.status, "authorized", "45.00 is within the limit");
    // The one waiting for review holds its two units: nothing is left.
    let err = t.request_return(&ask(&order, &[("TEE", 1)], "defective")).await.expect_err("all asked for");
    assert_eq!(err.code(), Code::ExceedsReturnable);
    let approved = t.review_return(&big.id, true, "ana", "regular customer").await.expect("approved");
    assert_eq!(approved.status, "authorized");
    assert_clean(&t).await;
}

async fn return_policy_versions_are_validated(t: T) {
    assert_eq!(t.active_return_policy().await.expect("read"), None, "the built-in default");
    let err = t.save_return_policy("[window]\ndefault_days = -5\n", "bad", "owner").await.expect_err("invalid");
    assert_eq!(err.code(), Code::InvalidPolicy);
    assert!(err.to_string().contains("line 2"), "{err}");
    assert!(t.list_return_policies(10).await.expect("list").is_empty(), "nothing saved");
    let saved = t.save_return_policy(EXAMPLE, "v1", "owner").await.expect("save");
    assert!(!saved.active);
    let active = t.activate_return_policy(saved.version, "ana").await.expect("activate");
    assert!(active.active);
    assert_eq!(active.activated_by.as_deref(), Some("ana"));
    let second = t.save_return_policy("[window]\ndefault_days = 60\n", "v2", "owner").await.expect("save");
    t.activate_return_policy(second.version, "ana").await.expect("activate");
    assert_eq!(t.active_return_policy().await.expect("read").map(|p| p.version), Some(second.version));
    let first = t.get_return_policy(saved.version).await.expect("read").expect("kept");
    assert!(!first.active, "one version is active at a time");
    let missing = t.activate_return_policy(999, "ana").await.expect_err("no such version");
    assert_eq!(missing.code(), Code::NotFound);
}

async fn concurrent_requests_never_return_a_unit_twice(t: T) {
    shop(&t).await;
    let order = shipped_order(&t, "r12", &[("TEE", 2)]).await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (e, a) = (t.e.clone(), ask(&order, &[("TEE", 1)], "defective"));
        tasks.push(tokio::spawn(async move { e.request_return(&a).await }));
    }
    let mut taken = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok(r) => {
                assert_eq!(r.status, "authorized");
                taken += 1;
            }
            Err(e) => assert_eq!(e.code(), Code::ExceedsReturnable, "{e}"),
        }
    }
    assert_eq!(taken, 2, "two units shipped, two returned");
    assert_clean(&t).await;
}

/// The metrics read returns: the orders received with a return that was
/// not rejected, over the orders; request to refund, over returns refunded.
async fn return_metrics_count_returned_orders_and_the_time_to_refund(t: T) {
    use switchyard_core::metrics::Period;
    shop(&t).await;
    let v = t.save_return_policy(EXAMPLE, "the shop's policy", "owner").await.expect("save").version;
    t.activate_return_policy(v, "owner").await.expect("activate");
    let kept = shipped_order(&t, "m1", &[("TEE", 2)]).await;
    let refused = shipped_order(&t, "m2", &[("TEE", 1)]).await;
    shipped_order(&t, "m3", &[("MUG", 1)]).await;
    shipped_order(&t, "m4", &[("MUG", 1)]).await;
    t.at(NOW + DAY);
    // Defective: refunded to the original payment (wrong_size would be an
    // exchange, whose replacement is an order of its own).
    let r = t.request_return(&ask(&kept, &[("TEE", 2)], "defective")).await.expect("request");
    assert_eq!(r.status, "authorized", "{r:?}");
    let no = t.request_return(&ask(&refused, &[("TEE", 1)], "late_delivery")).await.expect("request");
    assert_eq!(no.status, "rejected", "a rejected request is not a return");
    t.at(NOW + 3 * DAY);
    t.receive_return(&r.id, &receipt(&[("TEE", 2, "resellable")])).await.expect("received");
    t.refund_return(&r.id, "ana", "").await.expect("refunded");

    let period = |from: i64, to: i64| switchyard_engine::MetricsQuery {
        period: Period::new(from, to).expect("period"),
        channel: None,
        location: None,
    };
    let m = t.metrics(&period(NOW - DAY, NOW + 10 * DAY)).await.expect("metrics");
    assert_eq!(m.orders, 4);
    assert_eq!(m.return_rate, 0.25, "one order of four came back");
    assert_eq!(m.return_turnaround_secs, Some(2.0 * 86_400.0), "asked on day 1, refunded on day 3");
    // A period that ends before the refund sees the return, not its refund.
    let early = t.metrics(&period(NOW - DAY, NOW + 2 * DAY)).await.expect("metrics");
    assert_eq!((early.return_rate, early.return_turnaround_secs), (0.25, None));
}
