//! The dashboard's Channels pages (issue 8, items 5–6) over HTTP on both
//! backends: a channel connected and edited through the form (credentials
//! kept when left blank, never written into any page), bad input refused
//! inline with nothing changed, every form refusing a wrong CSRF token, the
//! resync button, and the SKU map's forms and suggestions. Live
//! connections point at a local stand-in of the platform.

mod common;

use common::{inline_error, is_styled_error_page, Browser, TestApp};
use serde_json::{json, Value};
use switchyard_core::ChannelKind;
use switchyard_standin::StandIn;

both!(
    a_channel_is_connected_and_edited_through_the_form,
    the_channel_form_refuses_bad_input_and_changes_nothing,
    every_channel_form_refuses_a_wrong_csrf_token,
    resync_sends_every_level_again,
    the_sku_map_is_edited_from_the_channel_page_with_suggestions,
    test_connection_reports_what_the_platform_answered,
);

const SECRETS: [&str; 4] = ["amzn-client-secret-VALUE", "Atzr|refresh-VALUE", "amzn1.client-id-VALUE", "hook-VALUE"];

fn amazon_form<'a>(base_url: &'a str, mode: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "amazon-us"),
        ("display_name", "Amazon US"),
        ("kind", "amazon"),
        ("mode", mode),
        ("active", "1"),
        ("sku_scope", "TEE-*\r\nMUG\r\n"),
        ("buffer_units", "1"),
        ("buffer_percent", ""),
        ("max_share_percent", ""),
        ("settings", "seller_id=A1SELLER\r\nmarketplace_id = ATVPDKIKX0DER\r\n"),
        ("base_url", base_url),
        ("credential.client_id", SECRETS[2]),
        ("credential.client_secret", SECRETS[0]),
        ("credential.refresh_token", SECRETS[1]),
        ("credential.access_token", ""),
        ("webhook_secret", SECRETS[3]),
    ]
}

async fn channel(app: &TestApp, name: &str) -> Option<Value> {
    let (_, list) = app.get("/api/v1/channels").await;
    list.as_array().and_then(|l| l.iter().find(|c| c["name"] == name).cloned())
}

async fn credential_names(app: &TestApp, name: &str) -> Value {
    let (s, v) = app.get(&format!("/api/v1/channels/{name}/sync")).await;
    assert_eq!(s, 200, "{v}");
    v["credentials"].clone()
}

fn name(raw: &str) -> switchyard_core::ChannelName {
    switchyard_core::ChannelName::parse(raw).expect("name")
}

/// The table of SKUs that go out under our own code and want a mapping.
fn unmapped_rows(html: &str) -> &str {
    let rest = html.split("id=\"unmapped\"").nth(1).unwrap_or_default();
    rest.split("</table>").next().unwrap_or_default()
}

fn assert_no_secret(html: &str, page: &str) {
    for s in SECRETS {
        assert!(!html.contains(s), "{page} shows a secret {s:?}");
    }
}

async fn a_channel_is_connected_and_edited_through_the_form(app: TestApp) {
    let b = Browser::sign_in(&app).await;
    let (status, location, _) = b.post("/channels/new", &amazon_form("", "import_only")).await;
    assert_eq!((status, location.as_str()), (303, "/channels/amazon-us?done=connected"));
    let c = channel(&app, "amazon-us").await.expect("connected");
    assert_eq!(
        (c["kind"].as_str(), c["mode"].as_str(), c["display_name"].as_str()),
        (Some("amazon"), Some("import_only"), Some("Amazon US"))
    );
    assert_eq!(c["settings"], json!({"seller_id": "A1SELLER", "marketplace_id": "ATVPDKIKX0DER"}));
    assert_eq!((c["sku_scope"].clone(), c["buffer_units"].as_i64()), (json!(["MUG", "TEE-*"]), Some(1)));
    assert_eq!(credential_names(&app, "amazon-us").await, json!(["client_id", "client_secret", "refresh_token"]));
    let secret = app.engine.channel_connection(&name("amazon-us")).await.expect("read");
    assert_eq!(secret.and_then(|(_, s)| s).as_deref(), Some(SECRETS[3]), "the webhook secret is stored");

    let (_, _, html) = b.get("/channels/amazon-us?done=connected").await;
    assert!(html.contains("Channel connected.") && html.contains("Amazon US"), "{html}");
    assert!(html.contains("client_secret") && html.contains("seller_id = A1SELLER"), "names and settings shown");
    assert!(!html.contains("class=\"resync\""), "an import-only channel has no resync button");
    for page in ["/channels", "/channels/amazon-us", "/channels/amazon-us/edit", "/channels/new"] {
        let (status, _, html) = b.get(page).await;
        assert_eq!(status, 200, "{page}");
        assert_no_secret(&html, page);
    }
    let (_, _, list) = b.get("/channels").await;
    assert!(list.contains("id=\"nav-channels\"") && list.contains("href=\"/channels/amazon-us\""), "{list}");
    assert!(list.contains("import only: orders come in, nothing is sent"), "{list}");

    // Edited with every credential field blank but one: the others are kept;
    // a ticked one is removed; the webhook secret is kept when blank.
    let (_, _, edit) = b.get("/channels/amazon-us/edit").await;
    assert!(edit.contains("name=\"remove.client_secret\""), "stored credentials can be removed: {edit}");
    let mut form = amazon_form("", "import_only");
    form.retain(|(k, _)| !k.starts_with("credential.") && *k != "webhook_secret" && *k != "name");
    form.extend([("credential.refresh_token", "Atzr|new"), ("remove.client_secret", "1"), ("buffer_units", "3")]);
    form.retain(|f| *f != ("buffer_units", "1"));
    let (status, location, _) = b.post("/channels/amazon-us/edit", &form).await;
    assert_eq!((status, location.as_str()), (303, "/channels/amazon-us?done=saved"));
    assert_eq!(credential_names(&app, "amazon-us").await, json!(["client_id", "refresh_token"]));
    assert_eq!(channel(&app, "amazon-us").await.expect("there")["buffer_units"], 3);
    let secret = app.engine.channel_connection(&name("amazon-us")).await.expect("read");
    assert_eq!(secret.and_then(|(_, s)| s).as_deref(), Some(SECRETS[3]), "a blank webhook secret keeps it");

    // Connecting a name that exists is refused: edit it instead.
    let (status, _, html) = b.post("/channels/new", &amazon_form("", "live")).await;
    assert_eq!(status, 422);
    assert!(inline_error(&html).contains("already a channel amazon-us"), "{html}");
    assert_eq!(channel(&app, "amazon-us").await.expect("there")["mode"], "import_only", "nothing changed");
}

async fn the_channel_form_refuses_bad_input_and_changes_nothing(app: TestApp) {
    let b = Browser::sign_in(&app).await;
    let bad: [(&str, &str, &str); 6] = [
        ("kind", "myspace", "kind"),
        ("buffer_percent", "150", "buffer_percent"),
        ("buffer_units", "lots", "buffer (units)"),
        ("settings", "seller_id A1\r\n", "not key=value"),
        ("base_url", "ftp://example.com", "base_url"),
        ("credential.client_secret", "two\u{7}lines", "one line"),
    ];
    for (field, value, says) in bad {
        let mut form = amazon_form("", "live");
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let (status, _, html) = b.post("/channels/new", &form).await;
        assert_eq!(status, 422, "{field}={value:?}: {html}");
        let error = inline_error(&html);
        assert!(error.contains(says) && error.contains("Nothing was saved"), "{field}: {error}");
        assert!(html.contains("value=\"Amazon US\""), "the form comes back as typed");
        assert_no_secret(&html, field);
        assert_eq!(channel(&app, "amazon-us").await, None, "{field}: nothing was saved");
    }

    // An edit refused: the connection stays as it was, credentials too.
    let (status, _, _) = b.post("/channels/new", &amazon_form("", "import_only")).await;
    assert_eq!(status, 303);
    let before = channel(&app, "amazon-us").await;
    let mut form = amazon_form("", "live");
    form.retain(|(k, _)| *k != "max_share_percent" && *k != "credential.client_id");
    form.extend([("max_share_percent", "101"), ("credential.client_id", "")]);
    let (status, _, html) = b.post("/channels/amazon-us/edit", &form).await;
    assert_eq!(status, 422, "{html}");
    assert!(inline_error(&html).contains("max_share_percent"), "{html}");
    assert_no_secret(&html, "a refused edit");
    assert!(html.contains("name=\"remove.client_id\""), "the stored names are still shown");
    assert_eq!(channel(&app, "amazon-us").await, before, "nothing changed");
    assert_eq!(credential_names(&app, "amazon-us").await, json!(["client_id", "client_secret", "refresh_token"]));
    let (status, _, html) = b.get("/channels/nobody/edit").await;
    assert!(status == 404 && is_styled_error_page(&html), "{status}");
}

async fn every_channel_form_refuses_a_wrong_csrf_token(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE-1", json!(null)).await;
    app.stock("TEE-1", "WH", 4).await;
    let stand_in = StandIn::start(ChannelKind::Amazon).await.expect("stand-in");
    let url = stand_in.url();
    let b = Browser::sign_in(&app).await;
    let (status, _, _) = b.post("/channels/new", &amazon_form(&url, "live")).await;
    assert_eq!(status, 303);
    let (s, v) = app.put("/api/v1/channels/amazon-us/skus/T1", json!({"sku": "TEE-1"})).await;
    assert_eq!(s, 200, "{v}");
    let before = (channel(&app, "amazon-us").await, app.get("/api/v1/channels/amazon-us/skus").await);
    let mut edit = amazon_form(&url, "import_only");
    edit.retain(|(k, _)| *k != "name");
    let mut new = amazon_form(&url, "live");
    new.retain(|(k, _)| *k != "name");
    new.push(("name", "other"));
    let forms: [(&str, Vec<(&str, &str)>); 5] = [
        ("/channels/new", new),
        ("/channels/amazon-us/edit", edit),
        ("/channels/amazon-us/resync", vec![]),
        ("/channels/amazon-us/skus", vec![("channel_sku", "T2"), ("sku", "TEE-1")]),
        ("/channels/amazon-us/skus/remove", vec![("channel_sku", "T1")]),
    ];
    for (path, fields) in &forms {
        for csrf in [Some("not-the-token"), Some(""), None] {
            let mut form = fields.clone();
            if let Some(c) = csrf {
                form.push(("csrf", c));
            }
            let (status, _, html) = b.post_raw(path, &form).await;
            let want = if csrf.is_some() { 403 } else { 400 };
            assert_eq!(status, want, "{path} with csrf {csrf:?}: {html}");
            assert!(is_styled_error_page(&html), "{path}: {html}");
            assert_no_secret(&html, path);
        }
    }
    let after = (channel(&app, "amazon-us").await, app.get("/api/v1/channels/amazon-us/skus").await);
    assert_eq!(after, before, "nothing changed");
    assert_eq!(channel(&app, "other").await, None);
}

/// Waits (on the real clock: the sync worker runs inside `serve`) until
/// the channel's levels satisfy `done`.
async fn wait_levels(app: &TestApp, name: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        last = app.get(&format!("/api/v1/channels/{name}/levels")).await.1;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("levels never settled: {last}");
}

async fn resync_sends_every_level_again(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE-1", json!(null)).await;
    app.stock("TEE-1", "WH", 4).await;
    let stand_in = StandIn::start(ChannelKind::Amazon).await.expect("stand-in");
    let url = stand_in.url();
    let b = Browser::sign_in(&app).await;
    let (status, _, _) = b.post("/channels/new", &amazon_form(&url, "live")).await;
    assert_eq!(status, 303);
    let settled = |v: &Value| v[0]["state"] == "settled" && v[0]["sent"] == 3;
    wait_levels(&app, "amazon-us", settled).await;
    let sent = stand_in.stock_requests().len();
    assert_eq!(stand_in.levels().get("TEE-1"), Some(&3), "4 less the buffer of 1");

    let (_, _, list) = b.get("/channels").await;
    assert!(list.contains("action=\"/channels/amazon-us/resync\""), "a pushing channel has the button");
    let (status, location, _) = b.post("/channels/amazon-us/resync", &[("back", "list")]).await;
    assert_eq!((status, location.as_str()), (303, "/channels?done=resynced&levels=1"));
    let (_, _, html) = b.get(&location).await;
    assert!(html.contains("1 level(s) will be sent again"), "{html}");
    wait_levels(&app, "amazon-us", settled).await;
    for _ in 0..100 {
        if stand_in.stock_requests().len() > sent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stand_in.stock_requests().len(), sent + 1, "the level was sent again");
    let (status, location, _) = b.post("/channels/amazon-us/resync", &[]).await;
    assert_eq!((status, location.as_str()), (303, "/channels/amazon-us?done=resynced&levels=1"));

    // The channel's page: the acknowledged level and the request.
    let (_, _, page) = b.get("/channels/amazon-us").await;
    assert!(page.contains("class=\"level-settled\"") || page.contains("class=\"level-pending\""), "{page}");
    assert!(page.contains("<td class=\"state\">"), "{page}");
    assert!(page.contains("<td>stock</td>") && page.contains("accepted"), "recent requests: {page}");

    // An import-only channel is not resynced: a styled 422, nothing queued.
    let mut form = amazon_form(&url, "import_only");
    form.retain(|(k, _)| *k != "name");
    let (status, _, _) = b.post("/channels/amazon-us/edit", &form).await;
    assert_eq!(status, 303);
    let (status, _, html) = b.post("/channels/amazon-us/resync", &[]).await;
    assert_eq!(status, 422);
    assert!(is_styled_error_page(&html) && html.contains("does not receive stock levels"), "{html}");
}

async fn the_sku_map_is_edited_from_the_channel_page_with_suggestions(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE-RED-M", json!(null)).await;
    app.sku("MUG", json!(null)).await;
    app.stock("TEE-RED-M", "WH", 5).await;
    let b = Browser::sign_in(&app).await;
    let stand_in = StandIn::start(ChannelKind::Shopify).await.expect("stand-in");
    let shop = json!({"kind": "shopify", "mode": "live", "base_url": stand_in.url(),
                      "settings": {"shop": "x", "location_id": "1"}, "credentials": {"access_token": "shpat_x"}});
    let (s, v) = app.put("/api/v1/channels/shop", shop).await;
    assert_eq!(s, 200, "{v}");

    // Live, its level goes out under our code, and Shopify needs a listing id.
    let (_, _, html) = b.get("/channels/shop").await;
    let unmapped = unmapped_rows(&html);
    assert!(unmapped.contains("TEE-RED-M") && unmapped.contains("listing id"), "{html}");

    // A lookup ignoring case, spaces and punctuation.
    let (_, _, html) = b.get("/channels/shop?suggest=tee%20red%2Fm").await;
    assert!(html.contains("tee red/m → TEE-RED-M"), "{html}");
    let (_, _, html) = b.get("/channels/shop?suggest=tee-red-l").await;
    assert!(html.contains("No SKU of ours matches"), "{html}");

    let (status, location, _) =
        b.post("/channels/shop/skus", &[("channel_sku", "tee red/m"), ("sku", "TEE-RED-M"), ("listing", "4711")]).await;
    assert_eq!((status, location.as_str()), (303, "/channels/shop?done=mapped"));
    let (_, map) = app.get("/api/v1/channels/shop/skus").await;
    assert_eq!(map, json!([{"channel": "shop", "channel_sku": "tee red/m", "sku": "TEE-RED-M", "listing": "4711"}]));
    let (_, _, html) = b.get("/channels/shop?done=mapped").await;
    assert!(html.contains("Mapping saved.") && html.contains(">4711<"), "{html}");
    let unmapped = unmapped_rows(&html);
    assert!(unmapped.contains("MUG") && !unmapped.contains("TEE-RED-M"), "TEE-RED-M is mapped now: {html}");

    // An unknown SKU of ours: inline 422, the codes that match, nothing added.
    let (status, _, html) = b.post("/channels/shop/skus", &[("channel_sku", "M1"), ("sku", "mug!")]).await;
    assert_eq!(status, 422, "{html}");
    assert!(!inline_error(&html).is_empty(), "{html}");
    assert!(html.contains("value=\"M1\""), "the form comes back as typed");
    let (status, _, html) = b.post("/channels/shop/skus", &[("channel_sku", "M1"), ("sku", "MUGG")]).await;
    assert_eq!(status, 422, "{html}");
    assert!(inline_error(&html).contains("MUGG"), "{html}");
    let (status, _, html) = b.post("/channels/shop/skus", &[("channel_sku", "M1"), ("sku", "mug")]).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("M1 → MUG") && html.contains("class=\"map-suggestion\""), "suggested: {html}");
    let (status, _, html) = b.post("/channels/shop/skus", &[("channel_sku", ""), ("sku", "MUG")]).await;
    assert_eq!(status, 422, "{html}");
    assert!(inline_error(&html).contains("channel SKU"), "{html}");
    assert_eq!(app.get("/api/v1/channels/shop/skus").await.1.as_array().map(Vec::len), Some(1), "nothing added");

    // Removed from its row.
    let (status, location, _) = b.post("/channels/shop/skus/remove", &[("channel_sku", "tee red/m")]).await;
    assert_eq!((status, location.as_str()), (303, "/channels/shop?done=unmapped"));
    assert_eq!(app.get("/api/v1/channels/shop/skus").await.1, json!([]));
    let (status, _, html) = b.post("/channels/shop/skus/remove", &[("channel_sku", "tee red/m")]).await;
    assert!(status == 404 && is_styled_error_page(&html), "{status}");
    let (status, _, html) = b.get("/channels/nobody").await;
    assert!(status == 404 && is_styled_error_page(&html), "{status}");
}

async fn test_connection_reports_what_the_platform_answered(app: TestApp) {
    let b = Browser::sign_in(&app).await;
    let stand_in = StandIn::start(ChannelKind::Shopify).await.expect("stand-in");
    let shop = json!({"kind": "shopify", "base_url": stand_in.url(),
                      "settings": {"shop": "x", "location_id": "1"}, "credentials": {"access_token": "shpat_x"}});
    let (s, v) = app.put("/api/v1/channels/shop", shop).await;
    assert_eq!(s, 200, "{v}");
    let (_, _, html) = b.get("/channels/shop").await;
    assert!(html.contains("id=\"test-connection\""), "import_only connections can be tested: {html}");

    let (status, _, html) = b.post("/channels/shop/test", &[]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Connection works"), "{html}");
    let sent = stand_in.requests();
    assert_eq!(sent.len(), 1, "one read");
    assert!(sent[0].headers.iter().any(|(k, v)| k == "x-shopify-access-token" && v == "shpat_x"), "authorized");
    assert!(!html.contains("shpat_x"), "the token is never shown");

    // Over the API; then a platform that refuses the token.
    let (s, v) = app.post("/api/v1/channels/shop/test", json!({})).await;
    assert_eq!((s, &v["ok"], &v["step"]), (200, &json!(true), &json!("request")), "{v}");
    stand_in.script([switchyard_standin::Scripted::status(401)]);
    let (s, v) = app.post("/api/v1/channels/shop/test", json!({})).await;
    assert_eq!((s, &v["ok"], &v["http_status"]), (200, &json!(false), &json!(401)), "{v}");
    stand_in.script([switchyard_standin::Scripted::status(401)]);
    let (_, _, html) = b.post("/channels/shop/test", &[]).await;
    assert!(html.contains("Connection test failed at the request step (HTTP 401)"), "{html}");

    let (s, _) = app.put("/api/v1/channels/till", json!({"kind": "pos"})).await;
    assert_eq!(s, 200);
    let (s, v) = app.post("/api/v1/channels/till/test", json!({})).await;
    assert_eq!(s, 422, "nothing to test on a POS: {v}");
    let (s, _) = app.post("/api/v1/channels/nope/test", json!({})).await;
    assert_eq!(s, 404);
    let (_, _, html) = b.get("/channels/till").await;
    assert!(!html.contains("id=\"test-connection\""), "{html}");
}
