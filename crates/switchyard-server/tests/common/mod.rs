//! `spawn_app()`: the real server on a random loopback port over a fresh
//! database, and helpers to talk to it over HTTP.
#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{json, Value};
use switchyard_engine::{Config, Engine, IdGen, ManualClock};
use switchyard_server::{ApiToken, AppState, ServerConfig};
pub use switchyard_store::testing::Backend;
use switchyard_store::testing::TestDb;

pub const TOKEN: &str = "test-token-0123456789";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub engine: Arc<Engine>,
    /// The app's clock: tests move it instead of sleeping.
    pub clock: Arc<ManualClock>,
    _db: TestDb,
}

/// Generates one test per backend from `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("sqlite always runs");
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(app) = common::spawn_app(common::Backend::Postgres, |_| {}).await else { return };
                super::$name(app).await;
            }
        }
    )*};
}

/// 2026-11-30T12:00:00Z: every test app starts at the same moment.
pub const START_MS: i64 = 1_796_040_000_000;

pub async fn spawn_app(backend: Backend, tweak: impl FnOnce(&mut ServerConfig)) -> Option<TestApp> {
    spawn_app_with(backend, tweak, Config::default()).await
}

/// The real server over a fresh database, with its own engine settings.
pub async fn spawn_app_with(
    backend: Backend,
    tweak: impl FnOnce(&mut ServerConfig),
    engine: Config,
) -> Option<TestApp> {
    spawn_app_built(backend, tweak, engine, |e| e).await
}

/// The real server over a fresh database, its engine finished by `build`
/// (e.g. `Engine::with_return_carrier`).
pub async fn spawn_app_built(
    backend: Backend,
    tweak: impl FnOnce(&mut ServerConfig),
    engine: Config,
    build: impl FnOnce(Engine) -> Engine,
) -> Option<TestApp> {
    let db = TestDb::fresh(backend).await?;
    let clock = Arc::new(ManualClock::new(START_MS));
    let opened = Engine::open(&db.url, engine, clock.clone(), IdGen::seeded(42)).await.expect("open engine");
    let store = Arc::new(build(opened));
    let mut config = ServerConfig::new(ApiToken::new(TOKEN));
    tweak(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::new(store.clone(), config);
    tokio::spawn(async move { switchyard_server::serve(listener, state).await });
    let client = reqwest::Client::builder().pool_max_idle_per_host(128).build().expect("client");
    Some(TestApp { base: format!("http://{addr}"), client, engine: store, clock, _db: db })
}

impl TestApp {
    /// What the app's engine was opened with (`--db`).
    pub fn db_url(&self) -> &str {
        &self._db.url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path)).bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn location(&self, code: &str, priority: i32) {
        let (s, v) = self
            .put(
                &format!("/api/v1/locations/{code}"),
                json!({"name": code, "kind": "warehouse",
                       "address": {"line1": "1 Dock", "city": "Reno", "region": "NV", "postal_code": "89501",
                                   "country": "US"},
                       "lat": 39.5, "lon": -119.8, "can_ship": true, "can_pickup": true, "priority": priority,
                       "active": true}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }

    pub async fn sku(&self, sku: &str, components: Value) {
        let (s, v) = self.put(&format!("/api/v1/skus/{sku}"), json!({"title": sku, "components": components})).await;
        assert_eq!(s, 200, "{v}");
    }

    pub async fn stock(&self, sku: &str, location: &str, on_hand: i64) {
        let (s, v) = self.put(&format!("/api/v1/inventory/{sku}/{location}"), json!({"on_hand": on_hand})).await;
        assert_eq!(s, 200, "{v}");
    }

    /// (on_hand, reserved, available) of a SKU at a location.
    pub async fn position(&self, sku: &str, location: &str) -> (i64, i64, i64) {
        let (s, v) = self.get(&format!("/api/v1/inventory/{sku}")).await;
        assert_eq!(s, 200, "{v}");
        v["locations"]
            .as_array()
            .expect("locations")
            .iter()
            .find(|l| l["location"] == location)
            .map(|l| {
                (
                    l["on_hand"].as_i64().unwrap_or(0),
                    l["reserved"].as_i64().unwrap_or(0),
                    l["available"].as_i64().unwrap_or(0),
                )
            })
            .unwrap_or((0, 0, 0))
    }

    pub async fn assert_audit_clean(&self) {
        let report = self.engine.audit().await.expect("audit");
        assert!(report.is_clean(), "audit drift: {:?}", report.drift);
    }

    pub async fn ledger_entries(&self) -> i64 {
        self.engine.audit().await.expect("audit").ledger_entries
    }
}

pub fn order_body(external_id: &str, lines: Value) -> Value {
    json!({
        "channel": "web", "external_id": external_id, "currency": "USD", "lines": lines,
        "ship_to": {"name": "Ana", "line1": "1 Oak St", "city": "Portland", "region": "OR", "postal_code": "97205",
                    "country": "US"}
    })
}

/// Units allocated across an order's lines.
pub fn allocated(order: &Value) -> i64 {
    order["lines"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .flat_map(|l| l["allocations"].as_array().cloned().unwrap_or_default())
                .map(|a| a["quantity"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

pub fn no_redirect() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// A signed-in browser: its cookie and its session's CSRF token.
pub struct Browser {
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

impl Browser {
    pub async fn sign_in(app: &TestApp) -> Browser {
        let r = no_redirect().post(app.url("/login")).form(&[("token", TOKEN)]).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 303);
        let set = r.headers()["set-cookie"].to_str().expect("cookie").to_owned();
        let cookie = set.split(';').next().expect("pair").to_owned();
        let mut b = Browser { base: app.base.clone(), cookie, csrf: String::new() };
        let (_, _, html) = b.get("/locations").await;
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
        b.csrf = html[at..].split('"').next().expect("value").to_owned();
        b
    }

    /// (status, Location header, body).
    pub async fn get(&self, path: &str) -> (u16, String, String) {
        let r = no_redirect().get(format!("{}{path}", self.base)).header("cookie", &self.cookie);
        answer(r.send().await.expect("send")).await
    }

    /// Posts the form with this session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let r = no_redirect().post(format!("{}{path}", self.base)).header("cookie", &self.cookie).form(form);
        answer(r.send().await.expect("send")).await
    }
}

pub async fn answer(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, location, r.text().await.expect("text"))
}

pub fn is_styled_error_page(html: &str) -> bool {
    html.contains("href=\"/static/app.css\"") && html.contains("id=\"error-message\"")
}

/// The text of the inline error (`id="error"`) of a page.
pub fn inline_error(html: &str) -> String {
    let at = html.find("id=\"error\">").map(|i| i + "id=\"error\">".len()).unwrap_or(0);
    html[at..].split("</p>").next().unwrap_or_default().to_owned()
}
