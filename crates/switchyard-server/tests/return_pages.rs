//! Issue 9 items 3 and 5 over real HTTP on both backends: the customer's
//! self-service return page (no sign-in: order number + e-mail or postal
//! code → lines and reason → instant decision → label through the status
//! link), the same answer for an unknown order and a wrong e-mail or
//! postal code, the per-address limit on failed look-ups, CSRF on the
//! anonymous forms, hostile text escaped; and the staff Returns page: a
//! scanned RMA opens its return, units received with a grade each, a
//! second receipt and an unknown RMA refused with nothing changed, a
//! person's approval with a reason, the refund.

mod common;

use common::{order_body, Browser, TestApp, START_MS};
use serde_json::{json, Value};

both!(
    a_customer_starts_a_return_alone_and_prints_the_label,
    unknown_orders_and_wrong_contacts_get_the_same_answer_and_are_limited,
    anonymous_forms_need_their_token_and_bad_choices_change_nothing,
    staff_scan_receive_review_and_refund_on_the_returns_page,
);

const DAY: i64 = 86_400_000;

/// Form fields as posted.
type Fields<'a> = &'a [(&'a str, &'a str)];
const HOSTILE: &str = "<script>alert('x')</script> & \"quotes\"";

/// WH with 10 × TEE and 5 × MUG; order `ext` (Ana, 97205,
/// ana@example.com) of 2 × TEE and 1 × MUG, shipped whole; its id.
async fn shipped_order(app: &TestApp, ext: &str) -> String {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.sku("MUG", json!(null)).await;
    app.stock("TEE", "WH", 10).await;
    app.stock("MUG", "WH", 5).await;
    let lines =
        json!([{"sku": "TEE", "quantity": 2, "unit_price": 2800}, {"sku": "MUG", "quantity": 1, "unit_price": 900}]);
    let mut body = order_body(ext, lines);
    body["email"] = json!("ana@example.com");
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    let ship = json!({"location": "WH", "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}]});
    let (s, o) = app.post(&format!("/api/v1/orders/{id}/shipments"), ship).await;
    assert_eq!((s, o["status"].as_str()), (200, Some("shipped")), "{o}");
    id
}

/// A customer's browser: the nonce cookie and the form token of `/return`.
struct Customer {
    base: String,
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl Customer {
    async fn open(app: &TestApp) -> Customer {
        let client = common::no_redirect();
        let r = client.get(app.url("/return")).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let set = r.headers()["set-cookie"].to_str().expect("cookie").to_owned();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/return"), "{set}");
        let cookie = set.split(';').next().expect("pair").to_owned();
        let html = r.text().await.expect("html");
        assert!(html.contains("id=\"order-number\"") && !html.contains("nav-returns"), "a public page, no dashboard");
        Customer { base: app.base.clone(), client, cookie, csrf: field(&html, "csrf") }
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        let r = self.client.post(format!("{}{path}", self.base)).header("cookie", &self.cookie).form(&form);
        common::answer(r.send().await.expect("send")).await
    }

    async fn find(&self, number: &str, contact: &str) -> (u16, String) {
        let (s, _, html) = self.post("/return/find", &[("number", number), ("contact", contact)]).await;
        (s, html)
    }
}

/// The value of the first input named `name`.
fn field(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = html.find(&key).unwrap_or_else(|| panic!("no field {name} in {html}")) + key.len();
    html[at..].split('"').next().unwrap_or_default().to_owned()
}

/// The `href` of the element with `id`.
fn href(html: &str, id: &str) -> String {
    let key = format!("id=\"{id}\" href=\"");
    let at = html.find(&key).unwrap_or_else(|| panic!("no link {id} in {html}")) + key.len();
    html[at..].split('"').next().unwrap_or_default().to_owned()
}

async fn returns_of(app: &TestApp, order: &str) -> Vec<Value> {
    let (s, list) = app.get(&format!("/api/v1/returns?order_id={order}")).await;
    assert_eq!(s, 200, "{list}");
    list["returns"].as_array().cloned().unwrap_or_default()
}

async fn a_customer_starts_a_return_alone_and_prints_the_label(app: TestApp) {
    let order = shipped_order(&app, "1001").await;
    let c = Customer::open(&app).await;
    // The number as printed ("#1001"), the address in another case.
    let (s, html) = c.find(" #1001 ", "Ana@Example.COM").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Order 1001") && html.contains("name=\"q1\"") && html.contains("name=\"q2\""), "{html}");
    assert!(html.contains("It is faulty or doesn"), "plain words for each reason: {html}");
    assert!(html.contains("value=\"defective\""), "canonical codes behind the words");
    // The postal code proves it too (our own order id as the number).
    let (s, html2) = c.find(&order, "97205").await;
    assert_eq!(s, 200, "{html2}");

    let (s, _, done) = c
        .post(
            "/return/request",
            &[
                ("number", "#1001"),
                ("contact", "ana@example.com"),
                ("q1", "1"),
                ("q2", "0"),
                ("reason", "defective"),
                ("note", HOSTILE),
            ],
        )
        .await;
    assert_eq!(s, 201, "{done}");
    assert!(done.contains("Your return is approved"), "{done}");
    assert!(done.contains("Approved: within the 30-day window"), "plain-English explanation: {done}");
    assert!(done.contains("RMA-261130-0001"), "{done}");
    assert!(!done.contains("<script>"), "nothing hostile echoed raw");
    let label = href(&done, "label-link");
    let status = href(&done, "status-link");
    assert!(label.starts_with("/status/") && label.ends_with("/label.pdf") && label.len() == 8 + 64 + 10, "{label}");

    // The label is there at once, through the unguessable link, with no sign-in.
    let r = reqwest::get(app.url(&label)).await.expect("label");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.bytes().await.expect("pdf").starts_with(b"%PDF-"));
    let page = reqwest::get(app.url(&status)).await.expect("status").text().await.expect("html");
    assert!(page.contains("Return RMA-261130-0001") && page.contains("id=\"return-label\""), "{page}");
    let wrong = reqwest::get(app.url(&format!("/status/{}/label.pdf", "0".repeat(64)))).await.expect("send");
    assert_eq!(wrong.status().as_u16(), 404, "an unknown link opens nothing");

    let rs = returns_of(&app, &order).await;
    assert_eq!(rs.len(), 1);
    assert_eq!((rs[0]["status"].as_str(), rs[0]["reason"].as_str()), (Some("label_issued"), Some("defective")));
    assert_eq!(rs[0]["created_by"], "customer (self-service)");
    assert_eq!(
        rs[0]["lines"],
        json!([{"line_no": 1, "sku": "TEE", "quantity": 1, "unit_price": 2800, "received": 0,
                                       "receipts": []}])
    );

    // What is on a return already is not offered again.
    let (_, again) = c.find("1001", "97205").await;
    assert!(again.contains("id=\"q1\" min=\"0\" max=\"1\""), "one TEE left to return: {again}");

    // Staff see the customer's words escaped.
    let b = Browser::sign_in(&app).await;
    let (s, _, staff) = b.get(&format!("/returns/{}", rs[0]["id"].as_str().expect("id"))).await;
    assert_eq!(s, 200);
    let at = staff.find("note:").map_or("", |i| &staff[i..staff.len().min(i + 160)]);
    assert!(staff.contains("&#60;script&#62;alert(&#39;x&#39;)") && !staff.contains("<script>alert"), "escaped: {at}");
    app.assert_audit_clean().await;
}

async fn unknown_orders_and_wrong_contacts_get_the_same_answer_and_are_limited(app: TestApp) {
    let order = shipped_order(&app, "2002").await;
    let c = Customer::open(&app).await;
    let (s1, unknown) = c.find("9999", "ana@example.com").await;
    let (s2, wrong_email) = c.find("2002", "bob@example.com").await;
    let (s3, wrong_postal) = c.find("2002", "97206").await;
    let (s4, no_such_id) = c.find("01890000-0000-7000-8000-000000000000", "97205").await;
    assert_eq!((s1, s2, s3, s4), (404, 404, 404, 404));
    assert_eq!(unknown, wrong_email, "an unknown order and a wrong e-mail look the same");
    assert_eq!(unknown, wrong_postal, "and a wrong postal code");
    assert_eq!(unknown, no_such_id);
    assert!(unknown.contains("We could not find an order") && !unknown.contains("value=\"9999\""), "nothing echoed");

    // A request with the wrong contact is refused the same way, and stores nothing.
    let (s, _, html) = c
        .post("/return/request", &[("number", "2002"), ("contact", "97299"), ("q1", "1"), ("reason", "defective")])
        .await;
    assert_eq!((s, html == unknown), (404, true));
    assert!(returns_of(&app, &order).await.is_empty(), "nothing stored");

    // Five failures so far; the limit is ten per minute per address.
    for _ in 0..5 {
        assert_eq!(c.find("9999", "97205").await.0, 404);
    }
    let (s, html) = c.find("2002", "97205").await;
    assert_eq!(s, 429, "even the right details wait once over the limit: {html}");
    assert!(html.contains("Too many attempts"), "{html}");
    app.clock.set(START_MS + 61_000);
    let (s, html) = c.find("2002", "97205").await;
    assert_eq!(s, 200, "the window ended: {html}");
    // Staff sign-in is not locked by a customer's typos.
    let _ = Browser::sign_in(&app).await;
}

async fn anonymous_forms_need_their_token_and_bad_choices_change_nothing(app: TestApp) {
    let order = shipped_order(&app, "3003").await;
    let c = Customer::open(&app).await;
    let fields = [("number", "3003"), ("contact", "97205")];
    // No cookie at all (another site posting the form), then a forged token.
    let r =
        common::no_redirect().post(app.url("/return/find")).form(&[("csrf", c.csrf.as_str()), fields[0], fields[1]]);
    let (s, _, html) = common::answer(r.send().await.expect("send")).await;
    assert_eq!(s, 403, "{html}");
    assert!(html.contains("This form has expired"), "{html}");
    let with_token =
        |csrf: String| Customer { base: c.base.clone(), client: c.client.clone(), cookie: c.cookie.clone(), csrf };
    assert_eq!(with_token("f".repeat(64)).find("3003", "97205").await.0, 403, "a forged token");
    // A token made for another browser's nonce does not fit this cookie.
    let other = Customer::open(&app).await;
    assert_ne!(other.csrf, c.csrf);
    assert_eq!(with_token(other.csrf.clone()).find("3003", "97205").await.0, 403);

    let base = [("number", "3003"), ("contact", "97205")];
    let cases: [(Fields, u16, &str); 6] = [
        (&[("q1", "3"), ("reason", "defective")], 409, "cannot return 3 of TEE"),
        (&[("q1", "0"), ("reason", "defective")], 422, "choose at least one item"),
        (&[("q1", "1"), ("reason", "broken")], 422, "choose a reason"),
        (&[("q1", "-1"), ("reason", "defective")], 422, "line 1"),
        (&[("q9", "1"), ("reason", "defective")], 422, "line 9"),
        (&[("q1", "1"), ("reason", "defective"), ("note", "\u{7}")], 422, "note"),
    ];
    for (extra, status, words) in cases {
        let mut form = base.to_vec();
        form.extend_from_slice(extra);
        let (s, _, html) = c.post("/return/request", &form).await;
        assert_eq!(s, status, "{extra:?}: {html}");
        let error = common::inline_error(&html);
        assert!(error.contains(words), "{extra:?}: {error}");
        assert!(html.contains("id=\"request-form\""), "the choice form again");
    }
    let (s, _, html) = c.post("/return/request", &[("number", "3003"), ("q1", "x")]).await;
    assert_eq!(s, 400, "{html}");
    assert!(returns_of(&app, &order).await.is_empty(), "nothing stored");
    // Nothing shipped yet: nothing offered.
    let mut body = order_body("3004", json!([{"sku": "TEE", "quantity": 1, "unit_price": 2800}]));
    body["email"] = json!("ana@example.com");
    assert_eq!(app.post("/api/v1/orders", body).await.0, 201);
    let (s, html) = c.find("3004", "ana@example.com").await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"nothing-returnable\"") && !html.contains("request-form"), "{html}");
}

async fn staff_scan_receive_review_and_refund_on_the_returns_page(app: TestApp) {
    let order = shipped_order(&app, "4004").await;
    let ask = json!({"order_id": order, "lines": [{"sku": "TEE", "quantity": 2}], "reason": "defective"});
    let (s, r) = app.post("/api/v1/returns", ask).await;
    assert_eq!((s, r["rma"].as_str()), (201, Some("RMA-261130-0001")), "{r}");
    let id = r["id"].as_str().expect("id").to_owned();
    let b = Browser::sign_in(&app).await;

    // Staff pages need a session; the label reprints from the page.
    let r = common::no_redirect().get(app.url(&format!("/returns/{id}/label.pdf"))).send().await.expect("send");
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().ok()), (303, Some("/login")));
    let r = common::no_redirect().get(app.url("/returns")).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 303, "no list without signing in");
    let pdf = reqwest::Client::new()
        .get(app.url(&format!("/returns/{id}/label.pdf")))
        .header("cookie", &b.cookie)
        .send()
        .await
        .expect("send");
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.expect("pdf").starts_with(b"%PDF-"));

    // The list, with the scan box focused; a scan opens the return.
    let (s, _, list) = b.get("/returns").await;
    assert_eq!(s, 200);
    assert!(list.contains("id=\"nav-returns\"") && list.contains("autofocus") && list.contains("RMA-261130-0001"));
    let (s, to, _) = b.get("/returns?q=rma-261130-0001%20").await;
    assert_eq!((s, to.as_str()), (303, format!("/returns/{id}").as_str()));
    let (s, _, html) = b.get("/returns?q=RMA-261130-0999").await;
    assert_eq!(s, 404);
    assert!(common::inline_error(&html).contains("No return has the number “RMA-261130-0999”"), "{html}");

    let (s, _, page) = b.get(&format!("/returns/{id}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("unit 1 of 2") && page.contains("unit 2 of 2") && page.contains("id=\"receive-form\""));
    let before = app.position("TEE", "WH").await;
    let path = format!("/returns/{id}/receive");
    let (s, to, _) = b.post(&path, &[("u1", "resellable"), ("u1", "damaged"), ("note", "box dented")]).await;
    assert_eq!((s, to.as_str()), (303, format!("/returns/{id}?done=received").as_str()));
    assert_eq!(app.position("TEE", "WH").await, (before.0 + 1, before.1, before.2 + 1), "one unit back on sale");
    let (_, _, page) = b.get(&to).await;
    assert!(page.contains("restocked at WH") && page.contains("to the inspection queue"), "{page}");
    assert!(page.contains("id=\"already-received\"") && !page.contains("id=\"receive-form\""));

    // The same parcel scanned and received again: refused, nothing restocked twice.
    let (s, _, again) = b.post(&path, &[("u1", "resellable"), ("u1", "resellable")]).await;
    assert_eq!(s, 409, "{again}");
    assert!(common::inline_error(&again).contains("cannot be received now"), "{again}");
    assert_eq!(app.position("TEE", "WH").await.0, before.0 + 1);
    // A wrong CSRF token changes nothing either.
    let (s, _, _) = b.post_raw(&format!("/returns/{id}/refund"), &[("csrf", "nope")]).await;
    assert_eq!(s, 403);

    let (s, to, _) = b.post(&format!("/returns/{id}/refund"), &[("note", "paid on the shop")]).await;
    assert_eq!((s, to.as_str()), (303, format!("/returns/{id}?done=refunded").as_str()));
    let (_, done) = app.get(&format!("/api/v1/returns/{id}")).await;
    assert_eq!((done["status"].as_str(), done["refunded"].as_i64()), (Some("refunded"), Some(5600)), "{done}");

    // Out of policy (past the window): a person approves it with a reason.
    app.clock.set(START_MS + 45 * DAY);
    let ask = json!({"order_id": order, "lines": [{"sku": "MUG", "quantity": 1}], "reason": "changed_mind"});
    let (s, late) = app.post("/api/v1/returns", ask).await;
    assert_eq!((s, late["status"].as_str()), (201, Some("requested")), "{late}");
    let late_id = late["id"].as_str().expect("id");
    let b = Browser::sign_in(&app).await; // the week-long session ended meanwhile
    let (_, _, page) = b.get(&format!("/returns/{late_id}")).await;
    assert!(page.contains("id=\"review-form\"") && !page.contains("id=\"receive-form\""), "{page}");
    let review = format!("/returns/{late_id}/review");
    let (s, _, html) = b.post(&review, &[("decision", "approve"), ("reason", " ")]).await;
    assert_eq!(s, 422, "a reason is required: {html}");
    let (s, to, _) = b.post(&review, &[("decision", "approve"), ("reason", "loyal customer")]).await;
    assert_eq!((s, to.as_str()), (303, format!("/returns/{late_id}?done=approved").as_str()));
    let (_, approved) = app.get(&format!("/api/v1/returns/{late_id}")).await;
    assert_eq!(approved["status"], "authorized");
    let events = approved["events"].as_array().expect("events");
    assert!(
        events.iter().any(|e| e["actor"] == "owner (admin token)"
            && e["message"].as_str().is_some_and(|m| m.contains("loyal customer"))),
        "who and why logged: {approved}"
    );
    let (s, _, _) = b.post(&review, &[("decision", "reject"), ("reason", "changed my mind")]).await;
    assert_eq!(s, 409, "an authorized return is no longer reviewed");
    let (s, _, _) = b.get("/returns?status=lost").await;
    assert_eq!(s, 400);
    let (s, _, filtered) = b.get("/returns?status=authorized").await;
    assert_eq!(s, 200);
    assert!(filtered.contains(approved["rma"].as_str().expect("rma")) && !filtered.contains(">RMA-261130-0001<"));
    app.assert_audit_clean().await;
}
