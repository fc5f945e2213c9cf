//! Return labels and the rest of the return workflow over real HTTP on both
//! backends (issue 9): the whole loop from order to closed return with a
//! self-printed label whose PDF is rasterized (`pdftoppm`, Debian's
//! poppler-utils) and whose barcode is decoded back to the RMA (rxing); the
//! ZPL and the packing slip; what has no label; the policy's destination
//! rules; and an outside carrier (a loopback stand-in) issuing a
//! postage-paid label.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{order_body, Backend, TestApp, START_MS};
use serde_json::{json, Value};
use switchyard_engine::return_carrier::HttpCarrier;
use switchyard_standin::carrier::{CarrierStandIn, CARRIER_NAME};

both!(
    the_whole_return_loop_with_a_self_printed_label,
    only_an_authorized_return_has_a_label,
    the_policy_chooses_where_returns_go,
);

const DAY: i64 = 86_400_000;

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("(no error code)")
}

/// WH (Reno) stocked with 10 × TEE.
async fn shop(app: &TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 10).await;
}

/// An order of `units` × TEE shipped whole from WH to Ana in Portland; its id.
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

/// An approved return of `units` × TEE; the return.
async fn returned(app: &TestApp, order: &str, units: i64, reason: &str) -> Value {
    let body = json!({"order_id": order, "lines": [{"sku": "TEE", "quantity": units}], "reason": reason});
    let (s, r) = app.post("/api/v1/returns", body).await;
    assert_eq!(s, 201, "{r}");
    r
}

/// (status, content type, body) of a GET.
async fn fetch(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let res = app.client.get(app.url(path)).bearer_auth(common::TOKEN).send().await.expect("send");
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, kind, res.bytes().await.expect("body").to_vec())
}

fn kinds(r: &Value) -> Vec<String> {
    r["events"].as_array().expect("events").iter().filter_map(|e| e["kind"].as_str().map(str::to_owned)).collect()
}

/// A scratch directory for one PDF's files.
fn scratch() -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "switchyard-labels-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (install poppler-utils)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// What poppler reads from a PDF: its text, its page size line, and the
/// first page rasterized at 200 dpi in grey (PGM: width, height, pixels).
struct Rendered {
    text: String,
    page_size: String,
    pages: usize,
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

fn render(pdf: &[u8]) -> Rendered {
    let dir = scratch();
    let file = dir.join("doc.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    let text = String::from_utf8_lossy(&run(Command::new("pdftotext").arg("-layout").arg(&file).arg("-"))).into_owned();
    let info = String::from_utf8_lossy(&run(Command::new("pdfinfo").arg(&file))).into_owned();
    let field =
        |name: &str| info.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (page_size, pages) = (field("Page size:"), field("Pages:").parse().expect("pages"));
    let out = dir.join("page");
    run(Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-singlefile", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(&out));
    let pgm = std::fs::read(dir.join("page.pgm")).expect("pdftoppm wrote page.pgm");
    let _ = std::fs::remove_dir_all(&dir);
    let (width, height, pixels) = read_pgm(&pgm);
    Rendered { text, page_size, pages, width, height, pixels }
}

/// A binary PGM (`P5`, 8-bit): width, height, pixels.
fn read_pgm(pgm: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..at]).into_owned());
    }
    assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P5", "255"), "an 8-bit binary PGM");
    let (w, h): (u32, u32) = (fields[1].parse().expect("width"), fields[2].parse().expect("height"));
    let pixels = pgm[at + 1..].to_vec();
    assert_eq!(pixels.len(), (w * h) as usize);
    (w, h, pixels)
}

/// The Code 128 barcode on the rendered page, decoded.
fn barcode(r: &Rendered) -> String {
    let found =
        rxing::helpers::detect_in_luma(r.pixels.clone(), r.width, r.height, Some(rxing::BarcodeFormat::CODE_128))
            .expect("a Code 128 barcode on the page");
    found.getText().to_owned()
}

async fn the_whole_return_loop_with_a_self_printed_label(app: TestApp) {
    shop(&app).await;
    let order = shipped(&app, "loop-1", 2).await;
    let r = returned(&app, &order, 2, "defective").await;
    let (id, rma) = (r["id"].as_str().expect("id").to_owned(), r["rma"].as_str().expect("rma").to_owned());
    assert_eq!((r["status"].as_str(), rma.as_str()), (Some("authorized"), "RMA-261130-0001"));
    assert!(r["tracking"].is_null() && r["carrier"].is_null());

    // Issue the label with the built-in carrier: self-printed, no tracking.
    app.clock.set(START_MS + DAY);
    let (s, issued) = app.post(&format!("/api/v1/returns/{rma}/label"), json!({"by": "Ana (customer)"})).await;
    assert_eq!(s, 200, "{issued}");
    assert_eq!((issued["status"].as_str(), issued["carrier"].as_str()), (Some("label_issued"), Some("self_printed")));
    assert!(issued["tracking"].is_null());
    assert_eq!(issued["label_issued_at"], "2026-12-01T12:00:00.000Z");
    let (s, again) = app.post(&format!("/api/v1/returns/{id}/label"), json!({})).await;
    assert_eq!((s, error_code(&again)), (409, "illegal_transition"), "issued once: {again}");

    // The label: a 4 × 6 PDF whose barcode decodes to the RMA, with both addresses.
    let (s, kind, pdf) = fetch(&app, &format!("/api/v1/returns/{id}/label.pdf")).await;
    assert_eq!((s, kind.as_str()), (200, "application/pdf"));
    let page = render(&pdf);
    assert_eq!((page.page_size.as_str(), page.pages), ("288 x 432 pts", 1), "4 × 6 inches");
    assert_eq!(barcode(&page), rma, "the barcode is the RMA");
    for text in [rma.as_str(), "Ana", "1 Oak St", "Portland, OR 97205", "WH", "1 Dock", "Reno, NV 89501"] {
        assert!(page.text.contains(text), "the label says {text:?}:\n{}", page.text);
    }
    assert!(page.text.contains("Reason: defective") && page.text.contains("Order: web loop-1"), "{}", page.text);
    let (s, _, by_rma) = fetch(&app, &format!("/api/v1/returns/{rma}/label.pdf")).await;
    assert_eq!((s, &by_rma), (200, &pdf), "the same label by RMA, byte for byte");

    // The same label for a thermal printer, and the packing slip.
    let (s, kind, zpl) = fetch(&app, &format!("/api/v1/returns/{rma}/label.zpl")).await;
    let zpl = String::from_utf8(zpl).expect("text");
    assert_eq!((s, kind.as_str()), (200, "text/plain; charset=utf-8"));
    assert!(zpl.starts_with("^XA\n") && zpl.ends_with("^XZ\n"), "{zpl}");
    assert!(zpl.contains(&format!("^BCN,237,N,N,N^FH^FD{rma}^FS")), "{zpl}");
    let (s, kind, slip) = fetch(&app, &format!("/api/v1/returns/{id}/packing-slip.pdf")).await;
    assert_eq!((s, kind.as_str()), (200, "application/pdf"));
    let slip = render(&slip);
    assert_eq!(slip.page_size, "612 x 792 pts (letter)");
    assert_eq!(barcode(&slip), rma, "the slip's barcode is the RMA too");
    assert!(slip.text.contains("TEE") && slip.text.contains("2 unit(s) in 1 line(s)"), "{}", slip.text);

    // In transit with the tracking the customer got at the drop-off.
    let (s, moving) = app.post(&format!("/api/v1/returns/{rma}/in-transit"), json!({"tracking": "9400 1"})).await;
    assert_eq!((s, moving["status"].as_str(), moving["tracking"].as_str()), (200, Some("in_transit"), Some("9400 1")));
    let (s, e) = app.post(&format!("/api/v1/returns/{rma}/in-transit"), json!({})).await;
    assert_eq!((s, error_code(&e)), (409, "illegal_transition"));
    let (s, e) = app.post(&format!("/api/v1/returns/{rma}/in-transit"), json!({"tracking": "a\u{7}b"})).await;
    assert_eq!((s, error_code(&e)), (422, "invalid_body"), "{e}");
    let (s, e) = app.post(&format!("/api/v1/returns/{rma}/close"), json!({})).await;
    assert_eq!((s, error_code(&e)), (409, "illegal_transition"), "not before the refund");

    // Received and graded: one back on sale, one to inspection.
    app.clock.set(START_MS + 5 * DAY);
    let before = app.position("TEE", "WH").await;
    let receive = json!({"lines": [{"sku": "TEE", "quantity": 1, "grade": "resellable"},
                                   {"sku": "TEE", "quantity": 1, "grade": "damaged"}], "by": "dock"});
    let (s, got) = app.post(&format!("/api/v1/returns/{rma}/receive"), receive).await;
    assert_eq!((s, got["status"].as_str()), (200, Some("dispositioned")), "{got}");
    assert_eq!(app.position("TEE", "WH").await, (before.0 + 1, before.1, before.2 + 1), "one unit restocked");
    let (s, paid) = app.post(&format!("/api/v1/returns/{rma}/refund"), json!({"by": "ana"})).await;
    assert_eq!((s, paid["status"].as_str(), paid["refunded"].as_i64()), (200, Some("refunded"), Some(5600)));
    let (s, closed) = app.post(&format!("/api/v1/returns/{rma}/close"), json!({"by": "ana", "note": "done"})).await;
    assert_eq!((s, closed["status"].as_str()), (200, Some("closed")), "{closed}");
    assert_eq!(
        kinds(&closed),
        [
            "requested",
            "decided",
            "authorized",
            "label_issued",
            "in_transit",
            "received",
            "inspected",
            "dispositioned",
            "refunded",
            "closed"
        ],
        "every step on the timeline"
    );
    let (s, e) = app.post(&format!("/api/v1/returns/{rma}/close"), json!({})).await;
    assert_eq!((s, error_code(&e)), (409, "illegal_transition"), "closed is final");
    let (_, o) = app.get(&format!("/api/v1/orders/{order}")).await;
    let order_kinds: Vec<&str> =
        o["events"].as_array().expect("events").iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["return_label_issued", "return_in_transit", "return_closed"] {
        assert!(order_kinds.contains(&kind), "the order's timeline tells of {kind}: {order_kinds:?}");
    }
    // A closed return still prints (a dock reprints a label), and the audit is clean.
    assert_eq!(fetch(&app, &format!("/api/v1/returns/{id}/label.pdf")).await.0, 200);
    app.assert_audit_clean().await;
}

async fn only_an_authorized_return_has_a_label(app: TestApp) {
    shop(&app).await;
    let order = shipped(&app, "nolabel-1", 2).await;
    for path in ["label.pdf", "label.zpl", "packing-slip.pdf"] {
        let (s, e) = app.get(&format!("/api/v1/returns/no-such-return/{path}")).await;
        assert_eq!((s, error_code(&e)), (404, "not_found"), "{path}: {e}");
        let (s, e) = app.get(&format!("/api/v1/returns/RMA-000000-0001/{path}")).await;
        assert_eq!((s, error_code(&e)), (404, "not_found"), "{path}: {e}");
    }
    let (s, e) = app.post("/api/v1/returns/no-such-return/label", json!({})).await;
    assert_eq!((s, error_code(&e)), (404, "not_found"));

    // In transit straight from authorized (no label issued: walked into a store).
    let walked = returned(&app, &order, 1, "defective").await;
    let walked_id = walked["id"].as_str().expect("id");
    let (s, e) = app.post(&format!("/api/v1/returns/{walked_id}/in-transit"), json!({})).await;
    assert_eq!((s, e["status"].as_str(), e["tracking"].as_str()), (200, Some("in_transit"), None), "{e}");
    let (s, e) = app.post(&format!("/api/v1/returns/{walked_id}/label"), json!({})).await;
    assert_eq!((s, error_code(&e)), (409, "illegal_transition"), "no label once on its way: {e}");

    // Past the window: it waits for a person, with no RMA and so no label.
    app.clock.set(START_MS + 45 * DAY);
    let waiting = returned(&app, &order, 1, "changed_mind").await;
    assert_eq!(waiting["status"], "requested");
    let id = waiting["id"].as_str().expect("id");
    for path in ["label.pdf", "label.zpl", "packing-slip.pdf"] {
        let (s, e) = app.get(&format!("/api/v1/returns/{id}/{path}")).await;
        assert_eq!((s, error_code(&e)), (409, "no_label"), "{path}: {e}");
        assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains("never authorized")), "{e}");
    }
    let (s, e) = app.post(&format!("/api/v1/returns/{id}/label"), json!({})).await;
    assert_eq!((s, error_code(&e)), (409, "no_label"), "{e}");
    let (s, e) = app.post(&format!("/api/v1/returns/{id}/in-transit"), json!({})).await;
    assert_eq!((s, error_code(&e)), (409, "illegal_transition"), "{e}");
    // Rejected by a person, it has no label either, and closes.
    let (s, rejected) = app.post(&format!("/api/v1/returns/{id}/reject"), json!({"by": "ben", "reason": "late"})).await;
    assert_eq!((s, rejected["status"].as_str()), (200, Some("rejected")));
    let (s, e) = app.get(&format!("/api/v1/returns/{id}/label.pdf")).await;
    assert_eq!((s, error_code(&e)), (409, "no_label"));
    let (s, closed) = app.post(&format!("/api/v1/returns/{id}/close"), json!({})).await;
    assert_eq!((s, closed["status"].as_str()), (200, Some("closed")), "{closed}");
    let (s, e) = app.post(&format!("/api/v1/returns/{id}/label"), json!({"extra": 1})).await;
    assert_eq!((s, error_code(&e)), (422, "invalid_body"), "{e}");

    let (s, doc) = app.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    for path in ["label", "label.pdf", "label.zpl", "packing-slip.pdf", "in-transit", "close"] {
        assert!(doc["paths"][format!("/returns/{{id}}/{path}")].is_object(), "openapi lacks {path}");
    }
    app.assert_audit_clean().await;
}

async fn the_policy_chooses_where_returns_go(app: TestApp) {
    shop(&app).await;
    // PDX in Portland, where the customer lives, stocks TEE; HUB has no stock.
    for (code, lat, lon, active) in [("PDX", 45.52, -122.68, true), ("HUB", 41.88, -87.63, true)] {
        let body = json!({"name": format!("{code} site"), "kind": "store",
            "address": {"line1": "2 Main St", "city": "Portland", "region": "OR", "postal_code": "97204",
                        "country": "US"},
            "lat": lat, "lon": lon, "can_ship": true, "can_pickup": false, "priority": 5, "active": active});
        let (s, v) = app.put(&format!("/api/v1/locations/{code}"), body).await;
        assert_eq!(s, 200, "{v}");
    }
    app.stock("TEE", "PDX", 3).await;
    let order = shipped(&app, "dest-1", 3).await;

    let activate = |toml: &'static str| {
        let app = &app;
        async move {
            let (s, v) = app.post("/api/v1/return-policies", json!({"toml": toml})).await;
            assert_eq!(s, 201, "{v}");
            let version = v["version"].as_i64().expect("version");
            let (s, a) = app.post(&format!("/api/v1/return-policies/{version}/activate"), json!({})).await;
            assert_eq!(s, 200, "{a}");
        }
    };
    activate("destination = \"nearest_stocking\"\n").await;
    let near = returned(&app, &order, 1, "defective").await;
    assert_eq!(near["destination"], "PDX", "the ship-to's ZIP is in Portland: {near}");
    let decided = &near["events"][1]["message"];
    assert!(decided.as_str().is_some_and(|m| m.contains("Sent to PDX: the nearest active location")), "{decided}");
    let pdf = fetch(&app, &format!("/api/v1/returns/{}/label.pdf", near["id"].as_str().expect("id"))).await.2;
    assert!(render(&pdf).text.contains("PDX site"), "the label is addressed to PDX");
    let before = app.position("TEE", "PDX").await.0;
    let receive = json!({"lines": [{"sku": "TEE", "quantity": 1, "grade": "resellable"}]});
    let (s, got) = app.post(&format!("/api/v1/returns/{}/receive", near["id"].as_str().expect("id")), receive).await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(app.position("TEE", "PDX").await.0, before + 1, "restocked where it was sent");

    // A hub the catalogue does not know is refused at save, with its line.
    let (s, e) = app.post("/api/v1/return-policies", json!({"toml": "\n[destination]\nhub = \"NOPE\"\n"})).await;
    assert_eq!((s, error_code(&e)), (422, "invalid_policy"), "{e}");
    assert_eq!(
        (e["error"]["details"][0]["line"].as_i64(), e["error"]["details"][0]["field"].as_str()),
        (Some(3), Some("destination.hub"))
    );
    activate("destination = { hub = \"HUB\" }\n").await;
    let hubbed = returned(&app, &order, 1, "defective").await;
    assert_eq!(hubbed["destination"], "HUB");

    // Switched off, the hub gives way to the origin.
    let body = json!({"name": "HUB site", "kind": "store",
        "address": {"line1": "2 Main St", "city": "Chicago", "region": "IL", "postal_code": "60601", "country": "US"},
        "lat": 41.88, "lon": -87.63, "can_ship": true, "can_pickup": false, "priority": 5, "active": false});
    let (s, _) = app.put("/api/v1/locations/HUB", body).await;
    assert_eq!(s, 200);
    let back = returned(&app, &order, 1, "defective").await;
    assert_eq!(back["destination"], "WH");
    assert!(back["events"][1]["message"].as_str().is_some_and(|m| m.contains("HUB is not active")), "{back}");
    app.assert_audit_clean().await;
}

/// An outside carrier (the loopback stand-in) issues a postage-paid label:
/// its PDF and tracking number are kept; a failure records nothing.
async fn an_http_carrier_issues_a_postage_paid_label(backend: Backend) {
    let carrier = CarrierStandIn::start("sk-test-carrier").await.expect("carrier stand-in");
    let http = HttpCarrier::new(&carrier.url(), carrier.api_key()).expect("client");
    let built =
        common::spawn_app_built(backend, |_| {}, Default::default(), move |e| e.with_return_carrier(Arc::new(http)))
            .await;
    let Some(app) = built else { return };
    shop(&app).await;
    let order = shipped(&app, "carrier-1", 2).await;
    let r = returned(&app, &order, 1, "defective").await;
    let rma = r["rma"].as_str().expect("rma").to_owned();

    let (s, issued) = app.post(&format!("/api/v1/returns/{rma}/label"), json!({})).await;
    assert_eq!(s, 200, "{issued}");
    assert_eq!(
        (issued["status"].as_str(), issued["carrier"].as_str(), issued["tracking"].as_str()),
        (Some("label_issued"), Some(CARRIER_NAME), Some("1ZSTANDIN0001"))
    );
    let asked = carrier.requests();
    assert_eq!(asked.len(), 1);
    assert_eq!((asked[0].method.as_str(), asked[0].path.as_str()), ("POST", "/v1/return-labels"));
    assert_eq!(asked[0].authorization.as_deref(), Some("Bearer sk-test-carrier"));
    let body = &asked[0].body;
    assert_eq!((body["reference"].as_str(), body["reason"].as_str()), (Some(rma.as_str()), Some("defective")));
    assert_eq!((body["from"]["name"].as_str(), body["from"]["postal_code"].as_str()), (Some("Ana"), Some("97205")));
    assert_eq!((body["to"]["name"].as_str(), body["to"]["city"].as_str()), (Some("WH"), Some("Reno")));
    assert_eq!(body["items"], json!([{"sku": "TEE", "quantity": 1}]));

    // label.pdf is now the carrier's label, byte for byte; the ZPL carries the tracking.
    let (s, kind, pdf) = fetch(&app, &format!("/api/v1/returns/{rma}/label.pdf")).await;
    assert_eq!((s, kind.as_str()), (200, "application/pdf"));
    assert_eq!(pdf, carrier.labels()[0].1);
    assert!(render(&pdf).text.contains(&format!("{CARRIER_NAME} 1ZSTANDIN0001 {rma}")));
    let zpl = String::from_utf8(fetch(&app, &format!("/api/v1/returns/{rma}/label.zpl")).await.2).expect("text");
    assert!(zpl.contains("Tracking: 1ZSTANDIN0001") && zpl.contains(CARRIER_NAME), "{zpl}");

    // The carrier fails: 502, nothing recorded; asked again, it issues.
    let other = returned(&app, &order, 1, "defective").await;
    let other_id = other["id"].as_str().expect("id");
    carrier.script([500]);
    let (s, e) = app.post(&format!("/api/v1/returns/{other_id}/label"), json!({})).await;
    assert_eq!((s, error_code(&e)), (502, "carrier_failed"), "{e}");
    assert!(!e["error"]["message"].as_str().unwrap_or("").contains("sk-test"), "the key is never shown: {e}");
    let (_, unchanged) = app.get(&format!("/api/v1/returns/{other_id}")).await;
    assert_eq!((unchanged["status"].as_str(), unchanged["carrier"].as_str()), (Some("authorized"), None));
    assert_eq!(kinds(&unchanged), kinds(&other), "nothing on the timeline");
    let (s, issued) = app.post(&format!("/api/v1/returns/{other_id}/label"), json!({})).await;
    assert_eq!((s, issued["tracking"].as_str()), (200, Some("1ZSTANDIN0002")), "{issued}");
    app.assert_audit_clean().await;
}

mod an_http_carrier {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        an_http_carrier_issues_a_postage_paid_label(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        an_http_carrier_issues_a_postage_paid_label(Backend::Postgres).await;
    }
}
