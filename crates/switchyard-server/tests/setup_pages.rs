//! Setting up in the dashboard (issue 8, item 5): the Locations form, the
//! CSV import, the searchable and paged Inventory page with receive and
//! count, and the API reference, over HTTP on both backends. Every form
//! refuses a wrong CSRF token and bad input, and then nothing has changed.

mod common;

use common::{inline_error, is_styled_error_page, no_redirect, Browser, TestApp};
use serde_json::json;

both!(
    locations_are_added_and_edited_through_the_form,
    location_form_refuses_bad_input_and_changes_nothing,
    csv_import_is_all_or_nothing_with_line_numbers,
    inventory_pages_with_a_cursor_and_searches,
    receive_and_count_change_stock_through_the_engine,
    every_new_form_refuses_a_wrong_csrf_token,
);

const STORE_FORM: &[(&str, &str)] = &[
    ("mode", "new"),
    ("code", "EAST"),
    ("name", "East side store"),
    ("kind", "store"),
    ("line1", "12 Main St"),
    ("city", "Portland"),
    ("region", "OR"),
    ("postal_code", "97214"),
    ("country", "us"),
    ("lat", "45.5152"),
    ("lon", "-122.6544"),
    ("priority", "2"),
    ("lead_time_days", ""),
    ("timezone", "America/Los_Angeles"),
    ("can_pickup", "1"),
    ("active", "1"),
];

fn with<'a>(base: &[(&'a str, &'a str)], changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> =
        base.iter().filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)).copied().collect();
    out.extend_from_slice(changes);
    out
}

async fn locations_are_added_and_edited_through_the_form(app: TestApp) {
    let b = Browser::sign_in(&app).await;
    let (status, location, _) = b.post("/locations", STORE_FORM).await;
    assert_eq!((status, location.as_str()), (303, "/locations?done=added"));
    let (_, _, html) = b.get("/locations?done=added").await;
    assert!(html.contains("Location added.") && html.contains("East side store"), "{html}");
    let (_, list) = app.get("/api/v1/locations").await;
    let east = &list[0];
    assert_eq!((east["code"].as_str(), east["kind"].as_str()), (Some("EAST"), Some("store")), "{list}");
    assert_eq!((east["lat"].as_f64(), east["lon"].as_f64()), (Some(45.5152), Some(-122.6544)));
    assert_eq!(east["address"]["country"], "US", "the country code is upper-cased");
    assert_eq!((east["can_ship"].as_bool(), east["can_pickup"].as_bool()), (Some(false), Some(true)));
    assert_eq!((east["priority"].as_i64(), east["timezone"].as_str()), (Some(2), Some("America/Los_Angeles")));

    // The edit form shows what is stored; saving it with changes updates it.
    let (status, _, html) = b.get("/locations/edit?code=EAST").await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"45.5152\"") && html.contains("value=\"America/Los_Angeles\""), "{html}");
    let edit = with(STORE_FORM, &[("mode", "edit"), ("name", "East store"), ("lat", ""), ("lon", "")]);
    let (status, location, _) = b.post("/locations", &edit).await;
    assert_eq!((status, location.as_str()), (303, "/locations?done=saved"));
    let (_, list) = app.get("/api/v1/locations").await;
    assert_eq!(list[0]["name"], "East store");
    // Blank coordinates of a US location are its ZIP code's centre (97214:
    // south-east Portland); elsewhere they stay blank.
    let (lat, lon) = (list[0]["lat"].as_f64().expect("lat"), list[0]["lon"].as_f64().expect("lon"));
    assert!((45.49..45.53).contains(&lat) && (-122.66..-122.61).contains(&lon), "97214's centre: {list}");
    let abroad = with(&edit, &[("country", "CA"), ("postal_code", "M5V 2T6"), ("timezone", "America/Toronto")]);
    let (status, _, html) = b.post("/locations", &abroad).await;
    assert_eq!(status, 303, "{html}");
    let (_, list) = app.get("/api/v1/locations").await;
    assert!(list[0]["lat"].is_null() && list[0]["lon"].is_null(), "no offline data for CA: {list}");
    let (status, _, html) = b.get("/locations/edit?code=NOPE").await;
    assert_eq!(status, 404);
    assert!(is_styled_error_page(&html));
}

async fn location_form_refuses_bad_input_and_changes_nothing(app: TestApp) {
    let b = Browser::sign_in(&app).await;
    for (change, want) in [
        (("code", "EA ST"), "location code may contain only"),
        (("kind", "depot"), "kind must be store, warehouse or dropship"),
        (("lat", "north"), "latitude: \"north\" is not a number"),
        (("lat", "95"), "lat must be within"),
        (("lon", "NaN"), "within ±180"),
        (("priority", "-1"), "priority must be 0 or more"),
        (("priority", "first"), "priority: \"first\" is not a whole number"),
        (("timezone", "Mars/Olympus"), "is not an IANA time zone"),
        (("name", " "), "name must not be empty"),
    ] {
        let (status, _, html) = b.post("/locations", &with(STORE_FORM, &[change])).await;
        assert_eq!(status, 422, "{change:?}");
        let error = unescape(&inline_error(&html));
        assert!(error.contains(want), "{change:?}: {error}");
        assert!(html.contains("id=\"location-form\""), "the form comes back: {change:?}");
        assert!(html.contains("value=\"12 Main St\""), "as it was sent: {change:?}");
    }
    let (_, list) = app.get("/api/v1/locations").await;
    assert_eq!(list, json!([]), "nothing was stored");

    // Adding a code that exists is refused; editing it is how it changes.
    app.location("EAST", 1).await;
    let (status, _, html) = b.post("/locations", STORE_FORM).await;
    assert_eq!(status, 422);
    assert!(inline_error(&html).contains("there is already a location EAST"), "{html}");
    let (_, list) = app.get("/api/v1/locations").await;
    assert_eq!(list[0]["name"], "EAST", "unchanged: {list}");
    let (status, _, html) = b.post("/locations", &[("mode", "new")]).await;
    assert_eq!(status, 422, "an empty form: {html}");
}

async fn csv_import_is_all_or_nothing_with_line_numbers(app: TestApp) {
    app.location("WH", 1).await;
    let b = Browser::sign_in(&app).await;
    let (status, _, html) = b.get("/inventory/import").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"import-form\""));
    for (csv, want) in [
        ("sku,title,location,on_hand\nTEE,Tee,WH,5\nMUG,Mug,WH,-1\n", "line 3: on_hand must not be negative"),
        ("sku,title,location,on_hand\nTEE,Tee,WH,5\nMUG,Mug,NOWHERE,1\n", "line 3:"),
        ("sku,location\nTEE,WH\n", "line 1: the header must name"),
        ("sku,location,on_hand\nTE E,WH,1\n", "line 2:"),
        ("sku,location,on_hand\n", "no rows"),
        ("", "line 1"),
    ] {
        let (status, _, html) = b.post("/inventory/import", &[("csv", csv)]).await;
        assert_eq!(status, 422, "{csv:?}: {html}");
        let error = unescape(&inline_error(&html));
        assert!(error.contains(want) && error.contains("Nothing was imported."), "{csv:?}: {error}");
        assert!(html.contains("TEE") || !csv.contains("TEE"), "the text is kept for fixing: {csv:?}");
        let (s, _) = app.get("/api/v1/inventory/TEE").await;
        assert_eq!(s, 404, "nothing was imported: {csv:?}");
    }
    let good = "sku,title,location,on_hand,safety_stock\nTEE,Red tee,WH,5,1\nMUG,Blue mug,WH,3,\n";
    let (status, _, html) = b.post("/inventory/import", &[("csv", good)]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Imported 2 row(s): 2 new SKU(s), 2 position(s) set."), "{html}");
    assert_eq!(app.position("TEE", "WH").await, (5, 0, 4));
    assert_eq!(app.position("MUG", "WH").await, (3, 0, 3));
    // Again: the SKUs exist now, the counts are set again.
    let (_, _, html) = b.post("/inventory/import", &[("csv", good)]).await;
    assert!(html.contains("Imported 2 row(s): 0 new SKU(s), 2 position(s) set."), "{html}");
    app.assert_audit_clean().await;
}

/// Undoes the template's HTML escaping of `&` and `"`.
fn unescape(html: &str) -> String {
    html.replace("&#38;", "&").replace("&amp;", "&").replace("&#34;", "\"").replace("&quot;", "\"")
}

/// Every SKU of the list, following the next-page links from `start`.
async fn walk(b: &Browser, start: &str) -> (Vec<String>, usize) {
    let (mut seen, mut pages, mut path) = (Vec::new(), 0, start.to_owned());
    loop {
        let (status, _, html) = b.get(&path).await;
        assert_eq!(status, 200, "{path}: {html}");
        pages += 1;
        for part in html.split("<th scope=\"row\"><a href=\"/inventory/item?sku=").skip(1) {
            let sku = part.split('>').nth(1).and_then(|s| s.split('<').next()).expect("sku");
            seen.push(unescape(sku));
        }
        let Some(at) = html.find("id=\"next-page\"") else { break };
        let href = html[..at].rsplit("href=\"").next().and_then(|s| s.split('"').next()).expect("href");
        path = unescape(href);
        assert!(pages < 20, "the pages end");
    }
    (seen, pages)
}

async fn inventory_pages_with_a_cursor_and_searches(app: TestApp) {
    app.location("WH", 1).await;
    let mut csv = String::from("sku,title,location,on_hand\n");
    for i in 0..120 {
        let title = if i % 40 == 7 { format!("Blue Mug {i}") } else { format!("Tee {i}") };
        csv.push_str(&format!("SKU-{i:03},{title},WH,{i}\n"));
    }
    csv.push_str("A/1#X,Slash and hash,WH,4\n");
    app.engine
        .import_stock(switchyard_server::stock_csv::parse_rows(csv.as_bytes(), || {}).expect("csv"))
        .await
        .expect("import");
    app.sku("KIT", json!([{"sku": "SKU-001", "quantity": 2}])).await;
    let b = Browser::sign_in(&app).await;

    // Every stocked SKU once, in byte order, 50 a page; the bundle is not listed.
    let (seen, pages) = walk(&b, "/inventory").await;
    let mut want: Vec<String> = (0..120).map(|i| format!("SKU-{i:03}")).collect();
    want.insert(0, "A/1#X".into());
    assert_eq!((seen.len(), pages), (121, 3));
    assert_eq!(seen, want);

    // A code prefix, paged too.
    let (seen, pages) = walk(&b, "/inventory?q=SKU-1").await;
    assert_eq!((seen.len(), pages), (20, 1), "{seen:?}");
    assert!(seen.iter().all(|s| s.starts_with("SKU-1")));
    let (seen, _) = walk(&b, "/inventory?q=SKU-").await;
    assert_eq!(seen.len(), 120);
    // A title, whatever its case.
    let (seen, _) = walk(&b, "/inventory?q=blue+MUG").await;
    assert_eq!(seen, ["SKU-007", "SKU-047", "SKU-087"]);
    // A word that could start a code but starts none is looked for in titles.
    let (_, _, html) = b.get("/inventory?q=Blue").await;
    assert!(html.contains("id=\"search-note\""), "{html}");
    let (seen, _) = walk(&b, "/inventory?q=Blue").await;
    assert_eq!(seen, ["SKU-007", "SKU-047", "SKU-087"]);
    let (seen, _) = walk(&b, "/inventory?q=Blue&by=sku").await;
    assert!(seen.is_empty(), "asked for codes only: {seen:?}");
    let (seen, _) = walk(&b, "/inventory?q=SKU-1&by=title").await;
    assert!(seen.is_empty(), "asked for titles only: {seen:?}");
    // Titles are paged too: 117 tees.
    let (seen, pages) = walk(&b, "/inventory?q=tee&by=title").await;
    assert_eq!((seen.len(), pages), (117, 3));
    // LIKE's wildcards are plain characters in a search.
    let (seen, _) = walk(&b, "/inventory?q=%25").await;
    assert!(seen.is_empty(), "{seen:?}");
    let (_, _, html) = b.get("/inventory?q=nothing+like+this").await;
    assert!(html.contains("No stocked SKU has a title containing"), "{html}");

    // A scanned SKU goes straight to its page, even one with / and #.
    let (status, location, _) = b.get("/inventory?q=SKU-042").await;
    assert_eq!((status, location.as_str()), (303, "/inventory/item?sku=SKU-042"));
    let (status, location, _) = b.get("/inventory?q=A%2F1%23X").await;
    assert_eq!((status, location.as_str()), (303, "/inventory/item?sku=A%2F1%23X"));
    let (status, _, html) = b.get(&location).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"item-sku\">A/1#X<"), "{html}");
    // A bundle is no stock page: the search lists nothing.
    let (status, _, html) = b.get("/inventory?q=KIT").await;
    assert_eq!(status, 200);
    assert!(html.contains("No stocked SKU"), "{html}");

    for (path, want) in [
        ("/inventory?after=not+a+sku", 422),
        ("/inventory?page=2", 400),
        ("/inventory?q=x&by=colour", 400),
        ("/inventory/item?sku=NOPE", 404),
        ("/inventory/item?sku=KIT", 422),
        ("/inventory/item", 400),
    ] {
        let (status, _, html) = b.get(path).await;
        assert_eq!(status, want, "{path}");
        assert!(is_styled_error_page(&html), "{path}: {html}");
    }
    let long = format!("/inventory?q={}", "x".repeat(201));
    assert_eq!(b.get(&long).await.0, 400);
}

async fn receive_and_count_change_stock_through_the_engine(app: TestApp) {
    app.location("WH", 1).await;
    app.location("EAST", 2).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 4).await;
    let b = Browser::sign_in(&app).await;
    let receive = [("sku", "TEE"), ("location", "EAST"), ("quantity", "6"), ("action", "receive")];
    let (status, location, _) = b.post("/inventory/stock", &receive).await;
    assert_eq!((status, location.as_str()), (303, "/inventory/item?sku=TEE&done=received"));
    assert_eq!(app.position("TEE", "EAST").await, (6, 0, 6), "a new position");
    let (_, _, html) = b.post("/inventory/stock", &receive).await;
    assert!(html.is_empty());
    assert_eq!(app.position("TEE", "EAST").await, (12, 0, 12), "received again: added");
    let count = [("sku", "TEE"), ("location", "WH"), ("quantity", "1"), ("action", "count")];
    let (status, location, _) = b.post("/inventory/stock", &count).await;
    assert_eq!((status, location.as_str()), (303, "/inventory/item?sku=TEE&done=counted"));
    assert_eq!(app.position("TEE", "WH").await, (1, 0, 1));
    let (_, _, html) = b.get(&location).await;
    assert!(html.contains("Count saved."), "{html}");
    let ledger = app.ledger_entries().await;

    for (fields, want) in [
        ([("sku", "TEE"), ("location", "WH"), ("quantity", "0"), ("action", "receive")], 422),
        ([("sku", "TEE"), ("location", "WH"), ("quantity", "-3"), ("action", "receive")], 422),
        ([("sku", "TEE"), ("location", "WH"), ("quantity", "-1"), ("action", "count")], 422),
        ([("sku", "TEE"), ("location", "WH"), ("quantity", "two"), ("action", "count")], 422),
        ([("sku", "TEE"), ("location", "WH"), ("quantity", "1"), ("action", "steal")], 400),
        ([("sku", "TE E"), ("location", "WH"), ("quantity", "1"), ("action", "receive")], 422),
        ([("sku", "NOPE"), ("location", "WH"), ("quantity", "1"), ("action", "receive")], 422),
        ([("sku", "TEE"), ("location", "NOWHERE"), ("quantity", "1"), ("action", "receive")], 422),
        ([("sku", "TEE"), ("location", "WH"), ("quantity", "99999999999999999999"), ("action", "count")], 422),
    ] {
        let (status, _, html) = b.post("/inventory/stock", &fields).await;
        assert_eq!(status, want, "{fields:?}: {html}");
        assert!(is_styled_error_page(&html), "{fields:?}: {html}");
    }
    let (status, _, html) = b.post("/inventory/stock", &[("sku", "TEE")]).await;
    assert_eq!(status, 400, "missing fields: {html}");
    assert_eq!(app.ledger_entries().await, ledger, "refused changes wrote nothing");
    assert_eq!((app.position("TEE", "WH").await, app.position("TEE", "EAST").await), ((1, 0, 1), (12, 0, 12)));
    app.assert_audit_clean().await;
}

async fn every_new_form_refuses_a_wrong_csrf_token(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 4).await;
    let b = Browser::sign_in(&app).await;
    let ledger = app.ledger_entries().await;
    let forms: [(&str, Vec<(&str, &str)>); 3] = [
        ("/locations", STORE_FORM.to_vec()),
        ("/inventory/stock", vec![("sku", "TEE"), ("location", "WH"), ("quantity", "5"), ("action", "receive")]),
        ("/inventory/import", vec![("csv", "sku,location,on_hand\nTEE,WH,50\nNEW,WH,1\n")]),
    ];
    for (path, fields) in &forms {
        for csrf in [Some("not-the-token"), Some(""), None] {
            let mut form = fields.clone();
            if let Some(c) = csrf {
                form.push(("csrf", c));
            }
            let (status, _, html) = b.post_raw(path, &form).await;
            // Without the field the form does not parse (400); with a wrong one, 403.
            let want = if csrf.is_some() { 403 } else { 400 };
            assert_eq!(status, want, "{path} with csrf {csrf:?}: {html}");
            assert!(is_styled_error_page(&html), "{path}: {html}");
        }
        // Signed out: to the sign-in page, whatever the token.
        let mut form = fields.clone();
        form.push(("csrf", &b.csrf));
        let r = no_redirect().post(app.url(path)).form(&form).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 303, "{path}");
        assert_eq!(r.headers()["location"], "/login");
    }
    assert_eq!(app.ledger_entries().await, ledger, "nothing changed");
    let (_, list) = app.get("/api/v1/locations").await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(app.get("/api/v1/inventory/NEW").await.0, 404);
}

#[tokio::test]
async fn the_api_reference_shows_every_operation_and_schema() {
    let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("app");
    let b = Browser::sign_in(&app).await;
    let (status, _, html) = b.get("/reference").await;
    assert_eq!(status, 200);
    let (_, doc) = app.get("/api/v1/openapi.json").await;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if !item[method].is_null() {
                let shown = format!("{}</span> <span class=\"mono\">{}</span>", method.to_uppercase(), path);
                assert!(html.contains(&shown), "{method} {path} is on the page");
            }
        }
    }
    for name in doc["components"]["schemas"].as_object().expect("schemas").keys() {
        assert!(html.contains(&format!("id=\"schema-{name}\"")), "schema {name}");
    }
    assert!(html.contains("<a href=\"#schema-LocationBody\">LocationBody</a>"), "request bodies link their schema");
    assert!(!html.contains("<script") && !html.contains("https://"), "nothing from elsewhere");
    let r = no_redirect().get(app.url("/reference")).send().await.expect("send");
    assert_eq!(r.headers()["location"], "/login", "signed out: sign in first");
}
