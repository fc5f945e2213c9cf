//! Regression tests for issue 7's security and HTTP defects: sessions,
//! rate limits on wrong tokens, security headers, messages that came from
//! the URL, error pages and error bodies for every kind of bad request.

mod common;

use std::sync::Arc;

use common::{order_body, TestApp};
use serde_json::{json, Value};
use switchyard_server::{ApiToken, AppState, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both!(sessions_are_random_stored_server_side_and_end_at_sign_out);

fn no_redirect() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// Signs in with `token`; the `name=value` cookie pair.
async fn sign_in(base: &str, token: &str) -> String {
    let r = no_redirect().post(format!("{base}/login")).form(&[("token", token)]).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 303, "sign-in with the right token redirects");
    let set = r.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().expect("pair").to_owned()
}

/// GET a dashboard page with a cookie: (status, Location header, body).
async fn page(base: &str, path: &str, cookie: &str) -> (u16, String, String) {
    let r = no_redirect().get(format!("{base}{path}")).header("cookie", cookie).send().await.expect("send");
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, location, r.text().await.expect("text"))
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().expect("value").to_owned()
}

/// Regression: every session cookie had the same value (an unsalted hash of
/// the admin token) and still worked after sign-out.
async fn sessions_are_random_stored_server_side_and_end_at_sign_out(app: TestApp) {
    let a = sign_in(&app.base, common::TOKEN).await;
    let b = sign_in(&app.base, common::TOKEN).await;
    assert_ne!(a, b, "two sign-ins get two different sessions");
    for cookie in [&a, &b] {
        let value = cookie.split_once('=').expect("pair").1;
        assert_eq!(value.len(), 64, "{cookie}");
        assert!(!value.contains(common::TOKEN));
    }
    let (status, _, html) = page(&app.base, "/", &a).await;
    assert_eq!(status, 200);
    let csrf_a = csrf_of(&html);
    let (_, _, html_b) = page(&app.base, "/", &b).await;
    assert_ne!(csrf_a, csrf_of(&html_b), "each session has its own CSRF token");

    // Session b's CSRF token does not work with session a's cookie.
    let r = no_redirect()
        .post(app.url("/logout"))
        .header("cookie", &a)
        .form(&[("csrf", csrf_of(&html_b))])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 403);

    let r = no_redirect().post(app.url("/logout")).header("cookie", &a).form(&[("csrf", &csrf_a)]).send().await;
    let r = r.expect("send");
    assert_eq!(r.status().as_u16(), 303);
    assert!(r.headers()["set-cookie"].to_str().expect("cookie").contains("Max-Age=0"));
    let (status, location, _) = page(&app.base, "/", &a).await;
    assert_eq!((status, location.as_str()), (303, "/login"), "the copied cookie no longer signs in");
    let (status, _, _) = page(&app.base, "/", &b).await;
    assert_eq!(status, 200, "the other session is untouched");

    // An expired session signs nobody in.
    app.clock.advance_ms(7 * 24 * 3_600_000 + 1);
    let (status, location, _) = page(&app.base, "/", &b).await;
    assert_eq!((status, location.as_str()), (303, "/login"));
    let swept = app.engine.sweep().await.expect("sweep");
    assert_eq!(swept.sessions_purged, 1, "the expired session is deleted");
}

/// Regression: changing the admin token did not sign anybody out.
#[tokio::test]
async fn changing_the_admin_token_ends_every_session() {
    let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("app");
    let cookie = sign_in(&app.base, common::TOKEN).await;
    assert_eq!(page(&app.base, "/", &cookie).await.0, 200);
    // The same database served again with a new token.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState::new(app.engine.clone(), ServerConfig::new(ApiToken::new("a-brand-new-token-42")));
    tokio::spawn(switchyard_server::serve(listener, state));
    let (status, location, _) = page(&base, "/", &cookie).await;
    assert_eq!((status, location.as_str()), (303, "/login"));
    let fresh = sign_in(&base, "a-brand-new-token-42").await;
    assert_eq!(page(&base, "/", &fresh).await.0, 200);
}

/// Regression: 1,000 wrong tokens in 0.07 s were all answered 401.
#[tokio::test]
async fn wrong_tokens_are_limited_per_address_with_429_and_retry_after() {
    let app = common::spawn_app(common::Backend::Sqlite, |c| {
        c.max_auth_failures = 3;
        c.auth_failure_window_secs = 60;
    })
    .await
    .expect("app");
    // Right tokens are never limited.
    for _ in 0..20 {
        assert_eq!(app.get("/api/v1/orders").await.0, 200);
    }
    // No token at all is not a guess.
    for _ in 0..5 {
        let r = app.client.get(app.url("/api/v1/orders")).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 401);
    }
    for guess in ["a", "b"] {
        let r = no_redirect().post(app.url("/login")).form(&[("token", guess)]).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 401);
    }
    let r = app.client.get(app.url("/api/v1/orders")).bearer_auth("c").send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401, "the third wrong token is still answered");
    // Over the limit: even the right token waits, on the API and at sign-in.
    let r = app.client.get(app.url("/api/v1/orders")).bearer_auth(common::TOKEN).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "60");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "too_many_requests");
    let r = no_redirect().post(app.url("/login")).form(&[("token", common::TOKEN)]).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.expect("text").contains("Too many failed sign-ins"));
    // When the window ends, the right token works again.
    app.clock.advance_ms(60_000);
    assert_eq!(app.get("/api/v1/orders").await.0, 200);
    sign_in(&app.base, common::TOKEN).await;
}

/// Regression: dashboard pages had no security headers.
#[tokio::test]
async fn pages_and_api_answers_carry_security_headers() {
    let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("app");
    for path in ["/login", "/", "/api/v1/orders", "/nope"] {
        let r = no_redirect().get(app.url(path)).send().await.expect("send");
        let h = r.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{path}: {csp:?}");
        assert_eq!(h.get("x-frame-options").map(|v| v.as_bytes()), Some(&b"DENY"[..]), "{path}");
        assert_eq!(h.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]), "{path}");
        assert_eq!(h.get("referrer-policy").map(|v| v.as_bytes()), Some(&b"no-referrer"[..]), "{path}");
    }
}

/// Regression: `/rules?message=…` showed any text a link put into it.
#[tokio::test]
async fn a_message_in_a_link_is_never_shown_on_the_rules_page() {
    let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("app");
    let cookie = sign_in(&app.base, common::TOKEN).await;
    let (status, _, html) = page(&app.base, "/rules?message=Send+your+token+to+evil.example", &cookie).await;
    assert_eq!(status, 400);
    assert!(!html.contains("evil.example"), "{html}");
    // What the server's own redirects carry is shown, in the server's words.
    let (status, _, html) = page(&app.base, "/rules?done=rolled_back", &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("Rolled back to the previous version."));
    let (status, _, _) = page(&app.base, "/rules?done=anything+you+like", &cookie).await;
    assert_eq!(status, 400);
}

fn is_styled_error_page(html: &str) -> bool {
    html.contains("<link rel=\"stylesheet\" href=\"/static/app.css\">") && html.contains("id=\"error-message\"")
}

/// Regression: bad dashboard queries were ignored or answered with raw
/// framework text, and unknown paths with an empty 404.
#[tokio::test]
async fn bad_dashboard_requests_get_a_styled_error_page() {
    let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("app");
    let cookie = sign_in(&app.base, common::TOKEN).await;
    for (path, want) in [
        ("/?status=bogus", 400),
        ("/?colour=red", 400),
        ("/exceptions?status=nope", 400),
        ("/rules?preview=999", 404),
        ("/rules?edit=999", 404),
        ("/rules?preview=abc", 400),
        ("/no/such/page", 404),
        ("/orders/nope", 404),
    ] {
        let (status, _, html) = page(&app.base, path, &cookie).await;
        assert_eq!(status, want, "{path}");
        assert!(is_styled_error_page(&html), "{path}: {html}");
    }
    let r = no_redirect().post(app.url("/orders/x/cancel")).header("cookie", &cookie).form(&[("reason", "x")]);
    let r = r.send().await.expect("send");
    assert_eq!(r.status().as_u16(), 400);
    assert!(is_styled_error_page(&r.text().await.expect("text")));
}

/// Regression: 405 answers had an empty body and 413 answers were plain text.
#[tokio::test]
async fn method_not_allowed_and_payload_too_large_answer_json() {
    let app = common::spawn_app(common::Backend::Sqlite, |c| c.body_limit_bytes = 4096).await.expect("app");
    let (status, body) = app.send(reqwest::Method::DELETE, "/api/v1/orders", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (405, Some("method_not_allowed")), "{body}");
    let big = "x".repeat(10_000);
    let (status, body) = app.post("/api/v1/orders", json!({"channel": big})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("payload_too_large")), "{body}");
    // A raw body (cancel's optional reason) too.
    let r = app.client.post(app.url("/api/v1/orders/x/cancel")).bearer_auth(common::TOKEN).body(big).send().await;
    let r = r.expect("send");
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().await.expect("a JSON error body");
    assert_eq!(body["error"]["code"], "payload_too_large");
}

/// A request whose body never comes is answered 408 (JSON) at its time
/// limit, and the server goes on serving.
#[tokio::test]
async fn a_request_that_never_sends_its_body_times_out_with_408() {
    let app = common::spawn_app(common::Backend::Sqlite, |c| c.request_timeout_secs = 1).await.expect("app");
    let mut s = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.expect("connect");
    let head = format!(
        "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{",
        common::TOKEN
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 8192];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut answer)).await;
    let n = read.expect("the server answered within 10 s").expect("read");
    let text = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    let app = Arc::new(app);
    let (status, _) = app.post("/api/v1/orders", order_body("after", json!([]))).await;
    assert_eq!(status, 422, "the server still answers");
}
