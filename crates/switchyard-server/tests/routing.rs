//! Routing policies over HTTP on both backends: validate, save, activate,
//! preview, explained decisions on orders, shadow mode and rollback.

mod common;

use common::{allocated, TestApp};
use serde_json::{json, Value};

both!(policies_route_orders_and_explain_why, invalid_policies_never_become_active, stores_reject_and_orders_reroute);

const PROTECT_FLAGSHIP: &str = r#"# Keep 2 bestsellers at the flagship for walk-ins.
[[protection]]
locations = ["FLAGSHIP"]
tag = "bestseller"
keep_units = 2

[protection.release_to]
min_order_value = { minor = 7500, currency = "USD" }
service_levels = ["same_day", "pickup"]

[ranking]
mode = "lexicographic"
criteria = [{ kind = "distance" }, { kind = "priority" }]
"#;

async fn shop(app: &TestApp) {
    let (s, v) = app
        .put(
            "/api/v1/locations/FLAGSHIP",
            json!({"name": "Flagship", "kind": "store",
                   "address": {"line1": "1 Pearl St", "city": "Portland", "region": "OR", "postal_code": "97209",
                               "country": "US"},
                   "lat": 45.5275, "lon": -122.6819, "can_ship": true, "can_pickup": true, "priority": 1,
                   "timezone": "America/Los_Angeles"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app
        .put(
            "/api/v1/locations/WH-RENO",
            json!({"name": "Warehouse Reno", "kind": "warehouse",
                   "address": {"line1": "1 Dock Rd", "city": "Reno", "region": "NV", "postal_code": "89502",
                               "country": "US"},
                   "lat": 39.5296, "lon": -119.8138, "can_ship": true, "priority": 2}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.put("/api/v1/skus/TEE-RED-M", json!({"title": "Red tee M", "tags": ["bestseller"]})).await;
    assert_eq!(s, 200, "{v}");
    app.stock("TEE-RED-M", "FLAGSHIP", 2).await;
    app.stock("TEE-RED-M", "WH-RENO", 10).await;
}

fn portland_order(external_id: &str, unit_price: i64) -> Value {
    json!({
        "channel": "shopify", "external_id": external_id, "currency": "USD",
        "lines": [{"sku": "TEE-RED-M", "quantity": 1, "unit_price": unit_price}],
        "ship_to": {"name": "Ana", "line1": "1 Oak St", "city": "Portland", "region": "OR", "postal_code": "97205",
                    "country": "US", "lat": 45.52, "lon": -122.68}
    })
}

fn location_of(order: &Value) -> String {
    order["lines"][0]["allocations"][0]["location"].as_str().unwrap_or_default().to_owned()
}

async fn policies_route_orders_and_explain_why(app: TestApp) {
    shop(&app).await;
    // Without a policy the built-in default applies: priority first.
    let (s, policy) = app.get("/api/v1/routing/policy").await;
    assert_eq!(s, 200);
    assert!(policy["version"].is_null());
    let (s, o) = app.post("/api/v1/orders", portland_order("r-0", 3800)).await;
    assert_eq!(s, 201, "{o}");
    assert_eq!(location_of(&o), "FLAGSHIP");
    app.post(&format!("/api/v1/orders/{}/cancel", o["id"].as_str().expect("id")), json!({})).await;

    let (s, saved) =
        app.post("/api/v1/routing/policies", json!({"toml": PROTECT_FLAGSHIP, "note": "protect", "by": "ana"})).await;
    assert_eq!(s, 201, "{saved}");
    let version = saved["version"].as_i64().expect("version");
    assert_eq!(saved["active"], false);
    assert_eq!(saved["policy"]["protection"][0]["keep_units"], 2);
    let (s, active) = app.post(&format!("/api/v1/routing/policies/{version}/activate"), json!({"by": "ana"})).await;
    assert_eq!(s, 200, "{active}");
    assert_eq!(active["active"], true);

    // Preview: the $38 order may not touch the flagship's protected units.
    let before = app.position("TEE-RED-M", "WH-RENO").await;
    let (s, preview) = app.post("/api/v1/routing/preview", json!({"order": portland_order("p-1", 3800)})).await;
    assert_eq!(s, 200, "{preview}");
    assert_eq!(preview["policy_version"], version);
    let why = preview["explanation"].as_str().expect("explanation");
    assert!(why.contains("Warehouse Reno"), "{why}");
    assert!(why.to_lowercase().contains("protect"), "{why}");
    assert_eq!(app.position("TEE-RED-M", "WH-RENO").await, before, "a preview reserves nothing");

    // Real orders: $38 goes to Reno, $80 may use the flagship.
    let (s, cheap) = app.post("/api/v1/orders", portland_order("r-1", 3800)).await;
    assert_eq!(s, 201, "{cheap}");
    assert_eq!(location_of(&cheap), "WH-RENO");
    let (_, cheap) = app.get(&format!("/api/v1/orders/{}", cheap["id"].as_str().expect("id"))).await;
    let decision = &cheap["routing"][0];
    assert_eq!(decision["policy_version"], version);
    assert_eq!(decision["shadow"], false);
    assert!(decision["explanation"].as_str().is_some_and(|e| e.to_lowercase().contains("protect")), "{decision}");
    assert!(decision["trace"].is_object());
    assert!(cheap["events"].as_array().expect("events").iter().any(|e| e["kind"] == "routed"));
    let (s, dear) = app.post("/api/v1/orders", portland_order("r-2", 8000)).await;
    assert_eq!(s, 201, "{dear}");
    assert_eq!(location_of(&dear), "FLAGSHIP");
    assert_eq!(allocated(&dear), 1);

    // Shadow: a draft without protection is recorded beside, reserving nothing.
    let (s, draft) = app
        .post(
            "/api/v1/routing/policies",
            json!({"toml": "[ranking]\nmode = \"lexicographic\"\ncriteria = [{ kind = \"distance\" }]\n"}),
        )
        .await;
    assert_eq!(s, 201, "{draft}");
    let draft_version = draft["version"].as_i64().expect("version");
    let (s, v) = app.post("/api/v1/routing/shadow", json!({"version": draft_version, "by": "ana"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["shadow_version"], draft_version);
    let flagship_before = app.position("TEE-RED-M", "FLAGSHIP").await;
    let (_, o) = app.post("/api/v1/orders", portland_order("r-3", 3800)).await;
    let (_, o) = app.get(&format!("/api/v1/orders/{}", o["id"].as_str().expect("id"))).await;
    let decisions = o["routing"].as_array().expect("routing");
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    assert_eq!(decisions.iter().filter(|d| d["shadow"] == true).count(), 1);
    assert_eq!(location_of(&o), "WH-RENO", "only the active policy reserves");
    assert_eq!(app.position("TEE-RED-M", "FLAGSHIP").await, flagship_before);
    let (s, report) = app.get("/api/v1/routing/shadow/report").await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["orders_compared"], 1, "{report}");
    assert_eq!(report["orders_different"], 1, "{report}");
    let differences = report["orders"][0]["differences"].as_array().expect("differences");
    assert!(differences.iter().any(|d| d.as_str().is_some_and(|d| d.contains("FLAGSHIP"))), "{report}");
    let (s, recent) = app
        .post(
            "/api/v1/routing/preview/recent",
            json!({"toml": "[ranking]\nmode = \"lexicographic\"\ncriteria = [{ kind = \"distance\" }]\n", "limit": 50}),
        )
        .await;
    assert_eq!(s, 200, "{recent}");
    assert!(recent["orders_compared"].as_i64().is_some_and(|n| n >= 3), "{recent}");
    let (s, b) = app.post("/api/v1/routing/preview/recent", json!({"toml": "[split]\nmax_shipments = 0\n"})).await;
    assert_eq!(s, 422, "{b}");
    app.post("/api/v1/routing/shadow", json!({"version": null})).await;

    // Roll back to the built-in default.
    let (s, back) = app.post("/api/v1/routing/rollback", json!({"by": "ana"})).await;
    assert_eq!(s, 200, "{back}");
    assert!(back["version"].is_null());
    let (_, list) = app.get("/api/v1/routing/policies").await;
    assert_eq!(list["policies"].as_array().expect("list").len(), 2);
    app.assert_audit_clean().await;
}

async fn invalid_policies_never_become_active(app: TestApp) {
    shop(&app).await;
    let bad = "[[protection]]\nlocations = [\"FLAGSHIP\"]\ntag = \"bestseller\"\nkeep_units = -2\n";
    let (s, b) = app.post("/api/v1/routing/policies/validate", json!({"toml": bad})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["code"], "invalid_policy");
    assert_eq!(b["error"]["details"][0]["line"], 4, "{b}");
    assert!(b["error"]["details"][0]["field"].as_str().is_some_and(|f| f.contains("keep_units")), "{b}");
    let unknown = "[[protection]]\nlocations = [\"NOWHERE\"]\nkeep_units = 1\n";
    let (s, b) = app.post("/api/v1/routing/policies", json!({"toml": unknown})).await;
    assert_eq!(s, 422, "{b}");
    assert!(b["error"]["message"].as_str().is_some_and(|m| m.contains("NOWHERE")), "{b}");
    let (s, b) = app.post("/api/v1/routing/policies", json!({"toml": "[magic]\nx = 1\n"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = app.post("/api/v1/routing/policies", json!({"toml": "not = [toml"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = app.post("/api/v1/routing/policies", json!({"policy": {"split": {"max_shipments": 0}}})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = app.post("/api/v1/routing/policies", json!({})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = app.post("/api/v1/routing/policies/999/activate", json!({})).await;
    assert_eq!(s, 404, "{b}");
    let (_, list) = app.get("/api/v1/routing/policies").await;
    assert!(list["policies"].as_array().expect("list").is_empty(), "nothing invalid was saved");
    // A valid policy naming a location is refused at activation once that
    // reference would not validate? It stays valid here; JSON works too.
    let (s, ok) = app.post("/api/v1/routing/policies", json!({"policy": {"split": {"strategy": "never"}}})).await;
    assert_eq!(s, 201, "{ok}");
    let (_, policy) = app.get("/api/v1/routing/policy").await;
    assert!(policy["version"].is_null(), "saving does not activate");
    let (s, b) = app.post("/api/v1/routing/rollback", json!({})).await;
    assert_eq!(s, 409, "{b}");
}

async fn stores_reject_and_orders_reroute(app: TestApp) {
    shop(&app).await;
    let (_, o) = app.post("/api/v1/orders", portland_order("rj-1", 3800)).await;
    assert_eq!(location_of(&o), "FLAGSHIP");
    let id = o["id"].as_str().expect("id").to_owned();
    let (s, b) = app.post(&format!("/api/v1/orders/{id}/allocations/1/reject"), json!({"location": "WH-RENO"})).await;
    assert_eq!(s, 409, "{b}");
    // Regression (issue 7): a line past the last one is not found (was 409).
    let (s, b) = app.post(&format!("/api/v1/orders/{id}/allocations/9/reject"), json!({"location": "WH-RENO"})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (404, Some("not_found")), "{b}");
    let (s, b) = app.post(&format!("/api/v1/orders/{id}/allocations/0/reject"), json!({"location": "FLAGSHIP"})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (400, Some("invalid_path")), "{b}");
    let (s, o) = app
        .post(
            &format!("/api/v1/orders/{id}/allocations/1/reject"),
            json!({"location": "FLAGSHIP", "reason": "not on the shelf", "by": "flagship staff"}),
        )
        .await;
    assert_eq!(s, 200, "{o}");
    let open: Vec<&Value> = o["lines"][0]["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .filter(|a| a["quantity"].as_i64() > a["released"].as_i64())
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["location"], "WH-RENO");
    assert_eq!(app.position("TEE-RED-M", "FLAGSHIP").await, (1, 0, 1), "the missing unit is counted out");
    let (s, o) = app.send(reqwest::Method::POST, &format!("/api/v1/orders/{id}/reroute"), None).await;
    assert_eq!(s, 200, "{o}");
    assert!(o["events"].as_array().expect("events").iter().filter(|e| e["kind"] == "rerouted").count() >= 2);
    // A count below what is reserved re-routes instead of failing.
    let (s, v) = app.put("/api/v1/inventory/TEE-RED-M/WH-RENO", json!({"on_hand": 0})).await;
    assert_eq!(s, 200, "{v}");
    let (_, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(o["status"], "accepted", "{o}");
    app.assert_audit_clean().await;
}
