//! Returns over real HTTP on both backends (issue 9): the shapes of
//! `POST /api/v1/returns`, reads by id and RMA number, receiving and
//! refunding, a person's decision on an out-of-policy return, the return
//! policy endpoints, and every bad request answered with a JSON error and
//! nothing changed.

mod common;

use common::{order_body, TestApp, START_MS};
use serde_json::{json, Value};

both!(
    the_return_loop_over_http,
    bad_return_requests_are_refused_and_change_nothing,
    out_of_policy_returns_wait_for_a_person,
    return_policies_are_versioned_like_routing_policies,
);

const DAY: i64 = 86_400_000;

/// WH stocked with 10 × TEE.
async fn shop(app: &TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 10).await;
}

/// An order of `units` × TEE at 28.00 shipped whole from WH; its id.
async fn shipped(app: &TestApp, ext: &str, units: i64) -> String {
    let (s, o) = app
        .post("/api/v1/orders", order_body(ext, json!([{"sku": "TEE", "quantity": units, "unit_price": 2800}])))
        .await;
    assert_eq!(s, 201, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    let ship = json!({"location": "WH", "lines": [{"sku": "TEE", "quantity": units}], "carrier": "UPS"});
    let (s, o) = app.post(&format!("/api/v1/orders/{id}/shipments"), ship).await;
    assert_eq!((s, o["status"].as_str()), (200, Some("shipped")), "{o}");
    id
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("(no error code)")
}

async fn the_return_loop_over_http(app: TestApp) {
    shop(&app).await;
    let order = shipped(&app, "ret-1", 2).await;
    let body = json!({"order_id": order, "lines": [{"sku": "TEE", "quantity": 2}], "reason": "defective",
                      "condition": "used", "by": "Ana (customer)"});
    let (s, r) = app.post("/api/v1/returns", body).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["status"], "authorized");
    assert_eq!(r["rma"], "RMA-261130-0001");
    assert_eq!(r["decision"]["outcome"], "approved");
    let explanation = r["decision"]["explanation"].as_str().expect("explanation");
    assert!(explanation.starts_with("Approved: within the 30-day window"), "{explanation}");
    assert_eq!((r["refund"].as_i64(), r["currency"].as_str()), (Some(5600), Some("USD")));
    assert_eq!((r["reason"].as_str(), r["condition"].as_str()), (Some("defective"), Some("used")));
    assert_eq!((r["destination"].as_str(), r["order_id"].as_str()), (Some("WH"), Some(order.as_str())));
    assert_eq!(
        r["lines"],
        json!([{"line_no": 1, "sku": "TEE", "quantity": 2, "unit_price": 2800, "received": 0,
                                    "receipts": []}])
    );
    assert_eq!(r["events"].as_array().map(Vec::len), Some(3), "{r}");
    assert_eq!(r["events"][0]["actor"], "Ana (customer)");
    assert!(r["decision"]["findings"].as_array().is_some_and(|f| !f.is_empty()));
    let id = r["id"].as_str().expect("id").to_owned();

    // Read by id and by the RMA number a scanner types.
    let (s, by_id) = app.get(&format!("/api/v1/returns/{id}")).await;
    assert_eq!((s, &by_id["id"]), (200, &r["id"]));
    let (s, by_rma) = app.get("/api/v1/returns/RMA-261130-0001").await;
    assert_eq!((s, &by_rma["id"]), (200, &r["id"]));
    let (s, list) = app.get(&format!("/api/v1/returns?order_id={order}&status=authorized")).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["returns"].as_array().map(Vec::len), Some(1));
    assert!(list["returns"][0]["events"].is_null(), "lists leave the timeline out");

    app.clock.set(START_MS + 4 * DAY);
    let before = app.position("TEE", "WH").await;
    let receive = json!({"lines": [{"sku": "TEE", "quantity": 1, "grade": "resellable"},
                                   {"sku": "TEE", "quantity": 1, "grade": "damaged"}], "by": "dock"});
    let (s, got) = app.post("/api/v1/returns/RMA-261130-0001/receive", receive.clone()).await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got["status"], "dispositioned");
    assert_eq!(got["lines"][0]["received"], 2);
    assert_eq!(got["lines"][0]["receipts"][1]["disposition"], "inspection");
    assert_eq!(app.position("TEE", "WH").await, (before.0 + 1, before.1, before.2 + 1), "one unit back on sale");
    let (s, again) = app.post(&format!("/api/v1/returns/{id}/receive"), receive).await;
    assert_eq!((s, error_code(&again)), (409, "illegal_transition"), "{again}");
    assert_eq!(app.position("TEE", "WH").await.0, before.0 + 1, "nothing restocked twice");

    // The refund, with no body at all, then never twice.
    let res = app.client.post(app.url(&format!("/api/v1/returns/{id}/refund"))).bearer_auth(common::TOKEN);
    let res = res.send().await.expect("send");
    assert_eq!(res.status().as_u16(), 200);
    let paid: Value = res.json().await.expect("json");
    assert_eq!((paid["status"].as_str(), paid["refunded"].as_i64()), (Some("refunded"), Some(5600)));
    assert!(paid["refunded_at"].is_string());
    let (s, twice) = app.post(&format!("/api/v1/returns/{id}/refund"), json!({"by": "ana"})).await;
    assert_eq!((s, error_code(&twice)), (409, "illegal_transition"));
    let (_, o) = app.get(&format!("/api/v1/orders/{order}")).await;
    let kinds: Vec<&str> = o["events"].as_array().expect("events").iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["return_requested", "return_received", "return_refunded"] {
        assert!(kinds.contains(&kind), "the order's timeline tells of {kind}: {kinds:?}");
    }
    app.assert_audit_clean().await;
}

async fn bad_return_requests_are_refused_and_change_nothing(app: TestApp) {
    shop(&app).await;
    let order = shipped(&app, "ret-2", 2).await;
    let ledger = app.ledger_entries().await;
    let line = |sku: &str, n: i64| json!([{"sku": sku, "quantity": n}]);
    let cases = [
        (json!({"order_id": order, "lines": line("TEE", 3), "reason": "defective"}), 409, "exceeds_returnable"),
        (json!({"order_id": order, "lines": line("MUG", 1), "reason": "defective"}), 422, "invalid_body"),
        (json!({"order_id": order, "lines": line("TEE", 0), "reason": "defective"}), 422, "invalid_quantity"),
        (json!({"order_id": order, "lines": [], "reason": "defective"}), 422, "invalid_body"),
        (json!({"order_id": order, "lines": line("TEE", 1)}), 422, "invalid_body"),
        (json!({"order_id": order, "lines": line("TEE", 1), "reason": " "}), 422, "invalid_body"),
        (json!({"order_id": order, "lines": line("TEE", 1), "reason": "x", "condition": "mint"}), 422, "invalid_body"),
        (json!({"order_id": order, "lines": line("TEE", 1), "reason": "x", "extra": 1}), 422, "invalid_body"),
        (json!({"order_id": order, "lines": line("TEE", 1), "reason": "x".repeat(1001)}), 422, "invalid_body"),
        (json!({"order_id": "nope", "lines": line("TEE", 1), "reason": "defective"}), 404, "not_found"),
    ];
    for (body, status, code) in cases {
        let (s, e) = app.post("/api/v1/returns", body.clone()).await;
        assert_eq!((s, error_code(&e)), (status, code), "{body} → {e}");
        assert!(e["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    let (s, e) = app.post("/api/v1/returns", json!({"order_id": order, "lines": line("TEE", 3), "reason": "x"})).await;
    assert_eq!(s, 409);
    assert_eq!(e["error"]["message"], "cannot return 3 of TEE: 2 shipped and not yet returned");
    let (s, list) = app.get("/api/v1/returns").await;
    assert_eq!((s, list["returns"].as_array().map(Vec::len)), (200, Some(0)), "nothing stored");
    assert_eq!(app.ledger_entries().await, ledger);

    let (s, e) = app.get("/api/v1/returns?status=lost").await;
    assert_eq!((s, error_code(&e)), (400, "invalid_query"));
    let (s, e) = app.get("/api/v1/returns/no-such-return").await;
    assert_eq!((s, error_code(&e)), (404, "not_found"));
    let (s, e) = app.post("/api/v1/returns/RMA-000000-0001/receive", json!({"lines": line("TEE", 1)})).await;
    assert_eq!((s, error_code(&e)), (422, "invalid_body"), "a line needs its grade: {e}");

    // A receipt that does not fit the return changes nothing.
    let body = json!({"order_id": order, "lines": line("TEE", 1), "reason": "wrong_size"});
    let (s, r) = app.post("/api/v1/returns", body).await;
    assert_eq!(s, 201, "{r}");
    let path = format!("/api/v1/returns/{}/receive", r["id"].as_str().expect("id"));
    let grade = |sku: &str, n: i64, g: &str| json!({"lines": [{"sku": sku, "quantity": n, "grade": g}]});
    for (body, status, code) in [
        (grade("TEE", 2, "resellable"), 409, "exceeds_returnable"),
        (grade("MUG", 1, "resellable"), 422, "invalid_body"),
        (grade("TEE", 1, "like new"), 422, "invalid_body"),
    ] {
        let (s, e) = app.post(&path, body.clone()).await;
        assert_eq!((s, error_code(&e)), (status, code), "{body} → {e}");
    }
    let (s, e) = app.post("/api/v1/returns/RMA-000000-0001/receive", grade("TEE", 1, "resellable")).await;
    assert_eq!((s, error_code(&e)), (404, "not_found"));
    let (_, after) = app.get(&format!("/api/v1/returns/{}", r["id"].as_str().expect("id"))).await;
    assert_eq!((after["status"].as_str(), after["lines"][0]["received"].as_i64()), (Some("authorized"), Some(0)));
    assert_eq!(app.ledger_entries().await, ledger, "no stock moved");
    app.assert_audit_clean().await;
}

async fn out_of_policy_returns_wait_for_a_person(app: TestApp) {
    shop(&app).await;
    let order = shipped(&app, "ret-3", 2).await;
    app.clock.set(START_MS + 45 * DAY);
    let body = json!({"order_id": order, "lines": [{"sku": "TEE", "quantity": 1}], "reason": "changed_mind"});
    let (s, r) = app.post("/api/v1/returns", body.clone()).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!((r["status"].as_str(), r["decision"]["outcome"].as_str()), (Some("requested"), Some("needs_review")));
    assert!(r["rma"].is_null());
    let (s, queue) = app.get("/api/v1/exceptions?kind=return_out_of_policy").await;
    assert_eq!(s, 200, "{queue}");
    let exception = &queue["exceptions"][0];
    assert_eq!((exception["id"].as_str(), exception["order_id"].as_str()), (r["exception_id"].as_str(), Some(&*order)));
    assert_eq!(exception["actions"], json!(["approve_return", "reject_return"]));

    // The dashboard's queue offers what applies to it: approve or reject, no dismiss, no cancel.
    let b = common::Browser::sign_in(&app).await;
    let (_, _, html) = b.get("/exceptions").await;
    assert!(html.contains("Approve return") && html.contains("Reject return"), "{html}");
    assert!(!html.contains("class=\"quiet dismiss\"") && !html.contains("Cancel order"), "{html}");

    let path = format!("/api/v1/exceptions/{}/resolve", exception["id"].as_str().expect("id"));
    let (s, e) = app.post(&path, json!({"action": "approve_return", "by": "ana"})).await;
    assert_eq!((s, error_code(&e)), (409, "invalid_request"), "a reason is needed: {e}");
    let (s, e) = app.post(&path, json!({"action": "approve_return", "by": "ana", "reason": "loyal customer"})).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!((e["status"].as_str(), e["resolved_by"].as_str()), (Some("resolved"), Some("ana")));
    let (_, r) = app.get(&format!("/api/v1/returns/{}", r["id"].as_str().expect("id"))).await;
    assert_eq!(r["status"], "authorized");
    assert_eq!(r["rma"], "RMA-270114-0001");

    // The other unit, asked for late too, rejected through the return's own endpoint.
    let (s, other) = app.post("/api/v1/returns", body).await;
    assert_eq!(s, 201, "{other}");
    let reject = format!("/api/v1/returns/{}/reject", other["id"].as_str().expect("id"));
    let (s, e) = app.post(&reject, json!({"by": "ben"})).await;
    assert_eq!((s, error_code(&e)), (422, "invalid_body"), "the reason is required: {e}");
    let (s, e) = app.post(&reject, json!({"by": "ben", "reason": ""})).await;
    assert_eq!((s, error_code(&e)), (422, "invalid_body"), "and not blank: {e}");
    let (s, rejected) = app.post(&reject, json!({"by": "ben", "reason": "past the window"})).await;
    assert_eq!((s, rejected["status"].as_str()), (200, Some("rejected")), "{rejected}");
    let last = rejected["events"].as_array().and_then(|e| e.last().cloned()).expect("an event");
    assert_eq!(
        (last["actor"].as_str(), last["message"].as_str()),
        (Some("ben"), Some("ben rejected the return: past the window"))
    );
    let approve = format!("/api/v1/returns/{}/approve", r["id"].as_str().expect("id"));
    let (s, e) = app.post(&approve, json!({"by": "ana", "reason": "again"})).await;
    assert_eq!((s, error_code(&e)), (409, "illegal_transition"));
    let (_, queue) = app.get("/api/v1/exceptions?kind=return_out_of_policy").await;
    assert_eq!(queue["exceptions"].as_array().map(Vec::len), Some(0), "both answered");
    app.assert_audit_clean().await;
}

async fn return_policies_are_versioned_like_routing_policies(app: TestApp) {
    shop(&app).await;
    let (s, doc) = app.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    for path in [
        "/returns",
        "/returns/{id}",
        "/returns/{id}/receive",
        "/returns/{id}/refund",
        "/return-policies",
        "/return-policies/{version}/activate",
        "/return-policy",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
    assert!(doc["components"]["schemas"]["ReturnView"].is_object(), "the return's schema is documented");

    // The README's example is a valid policy.
    let readme = include_str!("../../../README.md");
    let start = readme.find("<!-- return-policy-example -->").expect("the README has the example");
    let end = readme.find("<!-- /return-policy-example -->").expect("closed");
    let example = readme[start..end].split("```").nth(1).expect("a fenced block").trim_start_matches("toml");
    let (s, checked) = app.post("/api/v1/return-policies/validate", json!({"toml": example})).await;
    assert_eq!(s, 200, "{checked}");
    assert_eq!(checked["policy"]["refund"]["auto_approve_up_to"]["minor"], 15000);

    let (s, in_force) = app.get("/api/v1/return-policy").await;
    assert_eq!(s, 200);
    assert!(in_force["version"].is_null());
    assert!(in_force["toml"].as_str().is_some_and(|t| t.contains("default_days = 30")), "{in_force}");

    let bad = json!({"toml": "[window]\ndefault_days = -5\n"});
    let (s, e) = app.post("/api/v1/return-policies/validate", bad.clone()).await;
    assert_eq!((s, error_code(&e)), (422, "invalid_policy"), "{e}");
    assert_eq!(e["error"]["details"][0]["line"], 2);
    assert_eq!(e["error"]["details"][0]["field"], "window.default_days");
    let (s, _) = app.post("/api/v1/return-policies", bad).await;
    assert_eq!(s, 422);
    let (s, e) = app.post("/api/v1/return-policies", json!({})).await;
    assert_eq!((s, error_code(&e)), (422, "invalid_body"));
    let (s, list) = app.get("/api/v1/return-policies").await;
    assert_eq!((s, list["policies"].as_array().map(Vec::len)), (200, Some(0)), "nothing saved");

    let toml = "[window]\ndefault_days = 14\n\n[refund]\nauto_approve_up_to = { minor = 2000, currency = \"USD\" }\n";
    let (s, v) = app.post("/api/v1/return-policies", json!({"toml": toml, "note": "two weeks", "by": "owner"})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!((v["active"].as_bool(), v["policy"]["window"]["default_days"].as_i64()), (Some(false), Some(14)));
    let version = v["version"].as_i64().expect("version");
    let (s, json_saved) =
        app.post("/api/v1/return-policies", json!({"policy": {"window": {"default_days": 60}}})).await;
    assert_eq!(s, 201, "{json_saved}");
    assert!(json_saved["body"].as_str().is_some_and(|b| b.contains("default_days = 60")));
    let (s, a) = app.post(&format!("/api/v1/return-policies/{version}/activate"), json!({"by": "ana"})).await;
    assert_eq!((s, a["active"].as_bool(), a["activated_by"].as_str()), (200, Some(true), Some("ana")), "{a}");
    let (_, in_force) = app.get("/api/v1/return-policy").await;
    assert_eq!(in_force["version"].as_i64(), Some(version));
    let (s, e) = app.post("/api/v1/return-policies/999/activate", json!({})).await;
    assert_eq!((s, error_code(&e)), (404, "not_found"));
    let (s, e) = app.get("/api/v1/return-policies/x").await;
    assert_eq!((s, error_code(&e)), (400, "invalid_path"));

    // The policy in force decides: 2 × 28.00 is above its 20.00 limit.
    let order = shipped(&app, "ret-4", 2).await;
    let body = json!({"order_id": order, "lines": [{"sku": "TEE", "quantity": 2}], "reason": "defective"});
    let (s, r) = app.post("/api/v1/returns", body).await;
    assert_eq!((s, r["status"].as_str()), (201, Some("requested")), "{r}");
    assert_eq!(r["decision"]["policy_version"].as_i64(), Some(version));
    assert_eq!(
        r["decision"]["explanation"],
        "Needs review: refund 56.00 USD is above the auto-approve limit of 20.00 USD"
    );
}
