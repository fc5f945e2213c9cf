//! Staff accounts and scoped API tokens over HTTP, on both backends: the
//! owner makes them through the API; a store staff member's token or
//! session sees and acts only on its location (403 `forbidden` elsewhere and
//! on owner/ops areas, nothing changed); a revoked token gets 401; a
//! disabled person's session ends; what a person does is logged with their
//! name; wrong passwords count toward the per-address sign-in limit.

mod common;

use serde_json::{json, Value};

both!(
    a_store_token_works_at_its_location_only,
    a_revoked_token_gets_401,
    only_the_owner_manages_staff_and_tokens,
    a_store_staff_session_sees_its_store_and_signs_its_steps,
    disabling_a_person_ends_their_session,
);

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

/// STORE and WH (both hand over and ship), MUG at both; an order allocated
/// at each (STORE is tried first; WH holds the only BOWL).
async fn shop(app: &common::TestApp) -> (String, String) {
    app.location("STORE", 1).await;
    app.location("WH", 2).await;
    app.sku("MUG", json!(null)).await;
    app.sku("BOWL", json!(null)).await;
    app.stock("MUG", "STORE", 5).await;
    app.stock("BOWL", "WH", 5).await;
    let at_store = order(app, "A-1", "MUG").await;
    let at_wh = order(app, "A-2", "BOWL").await;
    (at_store, at_wh)
}

async fn order(app: &common::TestApp, ext: &str, sku: &str) -> String {
    let body = common::order_body(ext, json!([{"sku": sku, "quantity": 1, "unit_price": 900}]));
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    o["id"].as_str().expect("id").to_owned()
}

/// The owner (admin token) makes a token; its secret.
async fn token(app: &common::TestApp, name: &str, role: &str, location: Option<&str>) -> (String, String) {
    let (s, t) = app.post("/api/v1/tokens", json!({"name": name, "role": role, "location": location})).await;
    assert_eq!(s, 201, "{t}");
    (t["id"].as_str().expect("id").to_owned(), t["secret"].as_str().expect("secret").to_owned())
}

async fn with_token(
    app: &common::TestApp,
    secret: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(secret);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn a_store_token_works_at_its_location_only(app: common::TestApp) {
    let (at_store, at_wh) = shop(&app).await;
    let (_, secret) = token(&app, "Till 2", "store", Some("STORE")).await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let (s, v) = with_token(&app, &secret, get.clone(), "/api/v1/locations/STORE/picks", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["orders"][0]["id"], json!(at_store));
    // Another location's picks, the rules, channels, inventory, staff: 403.
    for path in ["/api/v1/locations/WH/picks", "/api/v1/routing/policies", "/api/v1/staff", "/api/v1/inventory/MUG"] {
        let (s, v) = with_token(&app, &secret, get.clone(), path, None).await;
        assert_eq!((s, code(&v)), (403, "forbidden"), "{path}: {v}");
    }
    let (s, v) =
        with_token(&app, &secret, reqwest::Method::PUT, "/api/v1/channels/web", Some(json!({"kind": "api"}))).await;
    assert_eq!((s, code(&v)), (403, "forbidden"), "{v}");
    // A step at WH is refused and changes nothing.
    let (_, before) = app.get(&format!("/api/v1/orders/{at_wh}")).await;
    let path = format!("/api/v1/orders/{at_wh}/picked");
    let (s, v) = with_token(&app, &secret, post.clone(), &path, Some(json!({"location": "WH"}))).await;
    assert_eq!((s, code(&v)), (403, "forbidden"), "{v}");
    let (_, after) = app.get(&format!("/api/v1/orders/{at_wh}")).await;
    assert_eq!(before, after, "nothing changed");
    // Its own: done, and the timeline names the token, whatever `by` says.
    let path = format!("/api/v1/orders/{at_store}/picked");
    let (s, v) = with_token(&app, &secret, post, &path, Some(json!({"location": "STORE", "by": "someone else"}))).await;
    assert_eq!(s, 200, "{v}");
    let events = v["events"].as_array().expect("events");
    assert!(
        events.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains("Till 2 (store staff, STORE; token)"))),
        "{v}"
    );
    assert!(!v.to_string().contains("someone else"), "{v}");
}

async fn a_revoked_token_gets_401(app: common::TestApp) {
    app.location("STORE", 1).await;
    let (id, secret) = token(&app, "Reports", "ops", None).await;
    let (s, v) = with_token(&app, &secret, reqwest::Method::GET, "/api/v1/routing/policies", None).await;
    assert_eq!(s, 200, "ops reach the rules: {v}");
    let (s, v) = app.send(reqwest::Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["revoked_at"].is_string(), "{v}");
    let (s, v) = with_token(&app, &secret, reqwest::Method::GET, "/api/v1/routing/policies", None).await;
    assert_eq!((s, code(&v)), (401, "unauthorized"), "{v}");
    let (_, list) = app.get("/api/v1/tokens").await;
    assert_eq!(list["tokens"][0]["id"], json!(id));
    assert!(!list.to_string().contains(&secret[3..]), "a secret is never listed: {list}");
}

async fn only_the_owner_manages_staff_and_tokens(app: common::TestApp) {
    app.location("STORE", 1).await;
    let (_, ops) = token(&app, "Ops", "ops", None).await;
    let (s, v) = with_token(&app, &ops, reqwest::Method::GET, "/api/v1/staff", None).await;
    assert_eq!((s, code(&v)), (403, "forbidden"), "{v}");
    let body = json!({"name": "Mallory", "role": "owner"});
    let (s, v) = with_token(&app, &ops, reqwest::Method::POST, "/api/v1/tokens", Some(body)).await;
    assert_eq!((s, code(&v)), (403, "forbidden"), "ops cannot make an owner token: {v}");
    let (_, owner) = token(&app, "Owner's laptop", "owner", None).await;
    let (s, v) = with_token(&app, &owner, reqwest::Method::GET, "/api/v1/staff", None).await;
    assert_eq!(s, 200, "{v}");
    // Bad bodies: 4xx, nothing written.
    for (body, status) in [
        (json!({"name": "Ana", "email": "ana@x.example", "role": "store", "password": "long enough pass"}), 422),
        (json!({"name": "Ana", "email": "ana@x.example", "role": "ops", "password": "short"}), 422),
        (json!({"name": "Ana", "email": "nope", "role": "ops", "password": "long enough pass"}), 422),
        (
            json!({"name": "Ana", "email": "ana@x.example", "role": "store", "location": "NOPE",
                "password": "long enough pass"}),
            422,
        ),
    ] {
        let (s, v) = app.post("/api/v1/staff", body.clone()).await;
        assert_eq!(s, status, "{body}: {v}");
    }
    let (_, list) = app.get("/api/v1/staff").await;
    assert_eq!(list["staff"], json!([]), "nothing written");
}

/// Adds a store staff member at STORE through the API; their id.
async fn add_ana(app: &common::TestApp) -> String {
    let body = json!({"name": "Ana Ruiz", "email": "ana@shop.example", "role": "store", "location": "STORE",
                      "password": "correct horse battery"});
    let (s, v) = app.post("/api/v1/staff", body).await;
    assert_eq!(s, 201, "{v}");
    assert!(v.get("password_hash").is_none() && !v.to_string().contains("correct horse"), "{v}");
    v["id"].as_str().expect("id").to_owned()
}

/// Signs in with e-mail and password; the browser with the CSRF token from
/// the Store page.
async fn sign_in_as(app: &common::TestApp, email: &str, password: &str) -> common::Browser {
    let r = common::no_redirect()
        .post(app.url("/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/store", "store staff land on the Store page");
    let set = r.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    let cookie = set.split(';').next().expect("pair").to_owned();
    let mut b = common::Browser { base: app.base.clone(), cookie, csrf: String::new() };
    let (s, _, html) = b.get("/store").await;
    assert_eq!(s, 200, "{html}");
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    b.csrf = html[at..].split('"').next().expect("value").to_owned();
    b
}

async fn a_store_staff_session_sees_its_store_and_signs_its_steps(app: common::TestApp) {
    let (at_store, at_wh) = shop(&app).await;
    add_ana(&app).await;
    let b = sign_in_as(&app, "Ana@Shop.example", "correct horse battery").await;
    // The Store page shows STORE whatever the query asks, and its order.
    let (s, _, html) = b.get("/store?location=WH").await;
    assert_eq!(s, 200);
    assert!(html.contains(&at_store) && !html.contains(&at_wh), "only STORE's picks");
    assert!(html.contains("Ana Ruiz (store staff, STORE)"), "who is signed in is shown");
    assert!(!html.contains("href=\"/rules\""), "no links to pages they cannot open");
    // Owner/ops pages: 403; the orders list sends them to the Store page.
    for path in ["/rules", "/channels", "/inventory", "/staff", "/exceptions"] {
        let (s, _, _) = b.get(path).await;
        assert_eq!(s, 403, "{path}");
    }
    let (s, to, _) = b.get("/").await;
    assert_eq!((s, to.as_str()), (303, "/store"));
    // A step at WH: 403, nothing changed.
    let (_, before) = app.get(&format!("/api/v1/orders/{at_wh}")).await;
    let (s, _, _) = b.post("/store/step", &[("location", "WH"), ("order", &at_wh), ("action", "picked")]).await;
    assert_eq!(s, 403);
    let (_, after) = app.get(&format!("/api/v1/orders/{at_wh}")).await;
    assert_eq!(before, after);
    // At STORE: done, and the timeline names her.
    let (s, _, _) = b.post("/store/step", &[("location", "STORE"), ("order", &at_store), ("action", "picked")]).await;
    assert_eq!(s, 303);
    let (_, o) = app.get(&format!("/api/v1/orders/{at_store}")).await;
    let events = o["events"].as_array().expect("events");
    assert!(
        events.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains("Ana Ruiz (store staff, STORE)"))),
        "{o}"
    );
    // The returns list is theirs only (none yet), with no shop-wide figures.
    let (s, _, html) = b.get("/returns").await;
    assert_eq!(s, 200);
    assert!(!html.contains("id=\"stats\""), "no shop-wide figures");
}

async fn disabling_a_person_ends_their_session(app: common::TestApp) {
    app.location("STORE", 1).await;
    let id = add_ana(&app).await;
    let b = sign_in_as(&app, "ana@shop.example", "correct horse battery").await;
    let (s, v) = app.post(&format!("/api/v1/staff/{id}/disable"), json!(null)).await;
    assert_eq!(s, 200, "{v}");
    let (s, to, _) = b.get("/store").await;
    assert_eq!((s, to.as_str()), (303, "/login"), "signed out");
    let r = common::no_redirect()
        .post(app.url("/login"))
        .form(&[("email", "ana@shop.example"), ("password", "correct horse battery")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401, "a disabled person cannot sign in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_count_toward_the_sign_in_limit_sqlite() {
    let app = common::spawn_app(common::Backend::Sqlite, |c| c.max_auth_failures = 3).await.expect("sqlite");
    wrong_passwords_count_toward_the_sign_in_limit(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_count_toward_the_sign_in_limit_postgres() {
    let Some(app) = common::spawn_app(common::Backend::Postgres, |c| c.max_auth_failures = 3).await else { return };
    wrong_passwords_count_toward_the_sign_in_limit(app).await;
}

async fn wrong_passwords_count_toward_the_sign_in_limit(app: common::TestApp) {
    app.location("STORE", 1).await;
    add_ana(&app).await;
    let try_password = |password: &'static str| {
        let url = app.url("/login");
        async move {
            let form = [("email", "ana@shop.example"), ("password", password)];
            common::no_redirect().post(url).form(&form).send().await.expect("send").status().as_u16()
        }
    };
    for _ in 0..3 {
        assert_eq!(try_password("wrong password!").await, 401);
    }
    // Over the limit: even the right password waits.
    assert_eq!(try_password("correct horse battery").await, 429);
}
