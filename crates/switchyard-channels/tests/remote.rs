//! The platforms' remote APIs as data: each request built exactly (method,
//! path, body checked as JSON), the two-step messages resumed from answers
//! written from the platforms' documented shapes (fixtures under
//! `tests/fixtures/<kind>/`), answers classified, and no reader panicking on
//! arbitrary bytes.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Value};
use switchyard_channels::remote::{
    remote, Conn, FulfilledLine, Fulfilment, Host, Method, Outcome, Polled, Remote, Request, Step, StockLevel,
    Unsendable,
};
use switchyard_channels::{parse, Kind};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn api(kind: Kind) -> &'static dyn Remote {
    remote(kind).unwrap_or_else(|| panic!("{kind:?} has a remote API"))
}

fn body(req: &Request) -> Value {
    let (kind, bytes) = req.body.as_ref().expect("a body");
    assert_eq!(kind, "application/json");
    serde_json::from_slice(bytes).expect("JSON body")
}

fn form(req: &Request) -> BTreeMap<String, String> {
    let (kind, bytes) = req.body.as_ref().expect("a body");
    assert_eq!(kind, "application/x-www-form-urlencoded");
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    text.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("k=v");
            (k.to_owned(), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

fn send(step: Step) -> Request {
    match step {
        Step::Send(r) => r,
        Step::Ask { request, .. } => panic!("expected one request, got a question: {request:?}"),
    }
}

fn level(sku: &str, listing: Option<&str>, quantity: i64) -> StockLevel {
    StockLevel { channel_sku: sku.into(), listing: listing.map(str::to_owned), quantity }
}

fn shipment(id: &str, lines: &[(&str, i64)]) -> Fulfilment {
    Fulfilment {
        external_id: id.into(),
        lines: lines.iter().map(|(s, q)| FulfilledLine { channel_sku: (*s).into(), quantity: *q }).collect(),
        carrier: "UPS".into(),
        tracking: "1Z999AA10123456784".into(),
        tracking_url: Some("https://www.ups.com/track?tracknum=1Z999AA10123456784".into()),
        // 2026-11-22T10:30:00Z
        shipped_at_ms: 1_795_343_400_000,
    }
}

fn rejected(o: Outcome) -> String {
    match o {
        Outcome::Rejected(why) => why,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

// ---------------------------------------------------------------- Shopify

fn shopify_settings() -> BTreeMap<String, String> {
    map(&[("shop", "harbor-goods"), ("location_id", "655441491")])
}

#[test]
fn shopify_sets_stock_with_inventory_set_quantities_250_at_a_time() {
    let (settings, creds) = (shopify_settings(), map(&[("access_token", "shpat_secret")]));
    let conn = Conn { settings: &settings, credentials: &creds };
    let s = api(Kind::Shopify);
    assert_eq!(s.base_url(conn, Host::Api).unwrap(), "https://harbor-goods.myshopify.com");
    let levels: Vec<StockLevel> =
        (0..260).map(|i| level(&format!("SKU-{i}"), Some(&format!("{}", 1000 + i)), i)).collect();
    let steps = s.stock_requests(conn, &levels).expect("stock");
    assert_eq!(steps.len(), 2, "260 levels at 250 a request");
    let reqs: Vec<Request> = steps.into_iter().map(send).collect();
    let first = &reqs[0];
    assert_eq!(
        (first.host, first.method, first.path.as_str()),
        (Host::Api, Method::Post, "/admin/api/2025-10/graphql.json")
    );
    let b = body(first);
    assert!(b["query"].as_str().unwrap().contains("inventorySetQuantities(input: $input)"));
    let input = &b["variables"]["input"];
    assert_eq!((input["name"].as_str(), input["reason"].as_str()), (Some("available"), Some("correction")));
    assert_eq!(input["ignoreCompareQuantity"], json!(true));
    assert_eq!(input["quantities"].as_array().unwrap().len(), 250);
    assert_eq!(
        input["quantities"][3],
        json!({"inventoryItemId": "gid://shopify/InventoryItem/1003", "locationId": "gid://shopify/Location/655441491",
               "quantity": 3})
    );
    assert_eq!(body(&reqs[1])["variables"]["input"]["quantities"].as_array().unwrap().len(), 10);
    assert!(first.headers.iter().all(|(_, v)| !v.contains("shpat")), "no secret before authorize");

    // From 2026-04 the compare check is opted out of per quantity.
    let newer = map(&[
        ("shop", "harbor-goods.myshopify.com"),
        ("location_id", "gid://shopify/Location/655441491"),
        ("api_version", "2026-04"),
    ]);
    let conn = Conn { settings: &newer, credentials: &creds };
    let req = send(s.stock_requests(conn, &[level("A", Some("gid://shopify/InventoryItem/7"), -4)]).unwrap().remove(0));
    assert_eq!(req.path, "/admin/api/2026-04/graphql.json");
    let input = &body(&req)["variables"]["input"];
    assert!(input.get("ignoreCompareQuantity").is_none());
    assert_eq!(
        input["quantities"][0],
        json!({"inventoryItemId": "gid://shopify/InventoryItem/7", "locationId": "gid://shopify/Location/655441491",
               "quantity": 0, "changeFromQuantity": null}),
        "a negative level is sent as 0"
    );
}

#[test]
fn shopify_refuses_what_it_cannot_send_in_plain_words() {
    let creds = map(&[]);
    let s = api(Kind::Shopify);
    let none = map(&[("shop", "harbor-goods")]);
    let err = s.stock_requests(Conn { settings: &none, credentials: &creds }, &[level("A", Some("1"), 1)]).unwrap_err();
    assert!(err.0.contains("`location_id`"), "{err}");
    let settings = shopify_settings();
    let conn = Conn { settings: &settings, credentials: &creds };
    let err = s.stock_requests(conn, &[level("TEE-RED-M", None, 1)]).unwrap_err();
    assert!(err.0.contains("TEE-RED-M") && err.0.contains("inventory item"), "{err}");
    let err = s.stock_requests(conn, &[level("A", Some("gid://shopify/Product/1"), 1)]).unwrap_err();
    assert!(err.0.contains("InventoryItem"), "{err}");
    let mut req = Request { host: Host::Api, method: Method::Post, path: "/".into(), headers: vec![], body: None };
    let err = s.authorize(conn, None, &mut req).unwrap_err();
    assert!(err.0.contains("`access_token`"), "{err}");
    let bad = map(&[("shop", "evil.com/x"), ("location_id", "1")]);
    assert!(s.base_url(Conn { settings: &bad, credentials: &creds }, Host::Api).is_err());
    let bad_version = map(&[("shop", "a"), ("location_id", "1"), ("api_version", "latest")]);
    let conn = Conn { settings: &bad_version, credentials: &creds };
    assert!(s.stock_requests(conn, &[level("A", Some("1"), 1)]).unwrap_err().0.contains("api_version"));
}

#[test]
fn shopify_fulfils_through_the_orders_fulfillment_orders() {
    let (settings, creds) = (shopify_settings(), map(&[]));
    let conn = Conn { settings: &settings, credentials: &creds };
    let s = api(Kind::Shopify);
    let f = shipment("820982911946154508", &[("TEE-RED-M", 2), ("variant:39072856", 3)]);
    let Step::Ask { request, then } = s.fulfilment_request(conn, &f).unwrap() else { panic!("asks first") };
    let q = body(&request);
    assert!(q["query"].as_str().unwrap().contains("fulfillmentOrders"));
    assert_eq!(q["variables"], json!({"id": "gid://shopify/Order/820982911946154508"}));
    let create = send(s.resume(conn, &then, &fixture("shopify/fulfillment_orders.json")).expect("resumes"));
    let b = body(&create);
    assert!(b["query"].as_str().unwrap().contains("fulfillmentCreate(fulfillment: $fulfillment)"));
    assert_eq!(
        b["variables"]["fulfillment"],
        json!({
            "lineItemsByFulfillmentOrder": [{
                "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1046000778",
                "fulfillmentOrderLineItems": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/1058737401", "quantity": 2},
                    {"id": "gid://shopify/FulfillmentOrderLineItem/1058737402", "quantity": 3}
                ]
            }],
            "notifyCustomer": true,
            "trackingInfo": {"company": "UPS", "number": "1Z999AA10123456784",
                "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}
        })
    );
    // More than is open, a line Shopify does not have, an unknown order, garbage.
    let too_many = shipment("820982911946154508", &[("TEE-RED-M", 3)]);
    let Step::Ask { then, .. } = s.fulfilment_request(conn, &too_many).unwrap() else { panic!() };
    let why = rejected(s.resume(conn, &then, &fixture("shopify/fulfillment_orders.json")).unwrap_err());
    assert!(why.contains("1 more of SKU TEE-RED-M"), "{why}");
    let why = rejected(s.resume(conn, &then, br#"{"data":{"order":null}}"#).unwrap_err());
    assert!(why.contains("not found"), "{why}");
    assert!(matches!(s.resume(conn, &then, b"<html>"), Err(Outcome::Transient(_))));
    // Two locations cannot go in one fulfillment.
    let two = json!({"data": {"order": {"fulfillmentOrders": {"nodes": [
        {"id": "gid://shopify/FulfillmentOrder/1", "status": "OPEN",
         "assignedLocation": {"location": {"id": "gid://shopify/Location/1"}},
         "lineItems": {"nodes": [{"id": "L1", "sku": "A", "remainingQuantity": 1}]}},
        {"id": "gid://shopify/FulfillmentOrder/2", "status": "OPEN",
         "assignedLocation": {"location": {"id": "gid://shopify/Location/2"}},
         "lineItems": {"nodes": [{"id": "L2", "sku": "B", "remainingQuantity": 1}]}}]}}}});
    let Step::Ask { then, .. } = s.fulfilment_request(conn, &shipment("5", &[("A", 1), ("B", 1)])).unwrap() else {
        panic!()
    };
    assert!(rejected(s.resume(conn, &then, two.to_string().as_bytes()).unwrap_err())
        .contains("different Shopify locations"));
}

#[test]
fn shopify_cancels_with_order_cancel() {
    let (settings, creds) = (shopify_settings(), map(&[]));
    let conn = Conn { settings: &settings, credentials: &creds };
    let req = api(Kind::Shopify).cancel_request(conn, "450789469", "out of stock everywhere").unwrap();
    let b = body(&req);
    assert!(b["query"].as_str().unwrap().contains("orderCancel(orderId: $orderId"));
    assert_eq!(
        b["variables"],
        json!({"orderId": "gid://shopify/Order/450789469", "reason": "OTHER", "restock": false, "notifyCustomer": true,
               "staffNote": "out of stock everywhere", "refundMethod": {"originalPaymentMethodsRefund": true}})
    );
    let old = map(&[("shop", "a"), ("api_version", "2025-01")]);
    let b = body(&api(Kind::Shopify).cancel_request(Conn { settings: &old, credentials: &creds }, "1", "x").unwrap());
    assert_eq!((b["variables"]["refund"].clone(), b["variables"].get("refundMethod")), (json!(true), None));
}

#[test]
fn shopify_answers_are_classified() {
    let s = api(Kind::Shopify);
    let ok = concat!(
        r#"{"data":{"inventorySetQuantities":{"#,
        r#""inventoryAdjustmentGroup":{"id":"gid://shopify/InventoryAdjustmentGroup/1"},"userErrors":[]}}}"#
    )
    .as_bytes();
    assert_eq!(s.outcome(200, None, ok), Outcome::Accepted);
    assert_eq!(s.outcome(200, None, &fixture("shopify/fulfillment_orders.json")), Outcome::Accepted);
    let why = rejected(s.outcome(200, None, &fixture("shopify/set_quantities_user_errors.json")));
    assert!(why.contains("input.quantities.1.locationId: The specified location could not be found."), "{why}");
    let cancel = concat!(
        r#"{"data":{"orderCancel":{"job":null,"#,
        r#""orderCancelUserErrors":[{"field":["orderId"],"#,
        r#""message":"Order has already been cancelled","code":"INVALID"}]}}}"#
    )
    .as_bytes();
    assert!(rejected(s.outcome(200, None, cancel)).contains("already been cancelled"));
    // THROTTLED comes with 200: wait until the asked cost is back (752-452)/100 → 3 s.
    assert_eq!(
        s.outcome(200, None, &fixture("shopify/throttled.json")),
        Outcome::Throttled { retry_after_secs: Some(3) }
    );
    assert_eq!(s.outcome(429, Some(2), b""), Outcome::Throttled { retry_after_secs: Some(2) });
    assert_eq!(s.outcome(429, None, b""), Outcome::Throttled { retry_after_secs: None });
    assert!(matches!(s.outcome(500, None, b"oops"), Outcome::Transient(_)));
    assert!(matches!(s.outcome(502, None, b""), Outcome::Transient(_)));
    assert!(rejected(s.outcome(401, None, br#"{"errors":"[API] Invalid API key or access token"}"#)).contains("401"));
    assert!(matches!(s.outcome(404, None, b""), Outcome::Rejected(_)));
    assert!(matches!(s.outcome(200, None, b"not json"), Outcome::Transient(_)));
    assert!(matches!(s.outcome(200, None, b""), Outcome::Transient(_)), "GraphQL always answers a body");
    let syntax = concat!(
        r#"{"errors":[{"message":"Field 'nope' doesn't exist on type 'Mutation'","#,
        r#""extensions":{"code":"undefinedField"}}]}"#
    )
    .as_bytes();
    assert!(rejected(s.outcome(200, None, syntax)).contains("doesn't exist"));
}

#[test]
fn shopify_authorizes_with_its_access_token_and_polls_nothing() {
    let (settings, creds) = (shopify_settings(), map(&[("access_token", "shpat_secret")]));
    let conn = Conn { settings: &settings, credentials: &creds };
    let s = api(Kind::Shopify);
    let mut req = send(s.stock_requests(conn, &[level("A", Some("1"), 1)]).unwrap().remove(0));
    s.authorize(conn, None, &mut req).unwrap();
    assert_eq!(req.header("x-shopify-access-token"), Some("shpat_secret"));
    assert!(!format!("{req:?}").contains("shpat_secret"), "Debug hides it");
    assert!(!serde_json::to_string(&req).unwrap().contains("shpat_secret"), "Serialize hides it");
    assert!(!format!("{conn:?}").contains("shpat_secret"));
    assert_eq!(s.token_request(conn).unwrap(), None);
    assert_eq!(s.poll_request(conn, None, 0, None).unwrap(), None);
}

// ------------------------------------------------------------ WooCommerce

#[test]
fn woocommerce_batches_products_and_variations() {
    let settings = map(&[("store_url", "https://shop.example.com/")]);
    let creds = map(&[("consumer_key", "ck_abc"), ("consumer_secret", "cs_def")]);
    let conn = Conn { settings: &settings, credentials: &creds };
    let w = api(Kind::Woocommerce);
    assert_eq!(w.base_url(conn, Host::Api).unwrap(), "https://shop.example.com");
    let mut levels: Vec<StockLevel> =
        (0..150).map(|i| level(&format!("S{i}"), Some(&format!("{}", 10 + i)), 5)).collect();
    levels.push(level("MUG-BLU", Some("40:41"), 3));
    levels.push(level("MUG-RED", Some("40:42"), -1));
    let reqs: Vec<Request> = w.stock_requests(conn, &levels).unwrap().into_iter().map(send).collect();
    assert_eq!(reqs.len(), 3, "100 + 50 products, then one parent's variations");
    assert_eq!((reqs[0].method, reqs[0].path.as_str()), (Method::Post, "/wp-json/wc/v3/products/batch"));
    assert_eq!(body(&reqs[0])["update"].as_array().unwrap().len(), 100);
    assert_eq!(body(&reqs[0])["update"][0], json!({"id": 10, "manage_stock": true, "stock_quantity": 5}));
    assert_eq!(body(&reqs[1])["update"].as_array().unwrap().len(), 50);
    assert_eq!(reqs[2].path, "/wp-json/wc/v3/products/40/variations/batch");
    assert_eq!(
        body(&reqs[2]),
        json!({"update": [{"id": 41, "manage_stock": true, "stock_quantity": 3},
                          {"id": 42, "manage_stock": true, "stock_quantity": 0}]})
    );
    let mut req = reqs[0].clone();
    w.authorize(conn, None, &mut req).unwrap();
    assert_eq!(req.header("authorization"), Some("Basic Y2tfYWJjOmNzX2RlZg=="), "ck_abc:cs_def");
    assert!(!format!("{req:?}").contains("Y2tfYWJj"));
    assert!(w.stock_requests(conn, &[level("X", None, 1)]).unwrap_err().0.contains("X"));
    assert!(w.stock_requests(conn, &[level("X", Some("abc"), 1)]).is_err());
    let http = map(&[("store_url", "http://shop.example.com")]);
    assert!(w.base_url(Conn { settings: &http, credentials: &creds }, Host::Api).unwrap_err().0.contains("https"));
}

#[test]
fn woocommerce_completes_then_notes_the_tracking_and_cancels_by_status() {
    let (settings, creds) = (map(&[("store_url", "https://shop.example.com")]), map(&[]));
    let conn = Conn { settings: &settings, credentials: &creds };
    let w = api(Kind::Woocommerce);
    let Step::Ask { request, then } = w.fulfilment_request(conn, &shipment("727", &[("WOO-SINGLE", 2)])).unwrap()
    else {
        panic!("two steps")
    };
    assert_eq!((request.method, request.path.as_str()), (Method::Put, "/wp-json/wc/v3/orders/727"));
    assert_eq!(body(&request), json!({"status": "completed"}));
    let note = send(w.resume(conn, &then, br#"{"id":727,"status":"completed"}"#).unwrap());
    assert_eq!((note.method, note.path.as_str()), (Method::Post, "/wp-json/wc/v3/orders/727/notes"));
    assert_eq!(
        body(&note),
        json!({"note": "Shipped with UPS, tracking number 1Z999AA10123456784. \
                        Track it at https://www.ups.com/track?tracknum=1Z999AA10123456784",
               "customer_note": true})
    );
    let cancel = w.cancel_request(conn, "727", "no stock").unwrap();
    assert_eq!((cancel.method, cancel.path.as_str()), (Method::Put, "/wp-json/wc/v3/orders/727"));
    assert_eq!(body(&cancel), json!({"status": "cancelled"}));
    assert!(w.cancel_request(conn, "../users", "x").is_err());
}

#[test]
fn woocommerce_answers_are_classified() {
    let w = api(Kind::Woocommerce);
    assert_eq!(w.outcome(200, None, br#"{"update":[{"id":10,"stock_quantity":5}]}"#), Outcome::Accepted);
    let partly = concat!(
        r#"{"update":[{"id":10,"stock_quantity":5},{"id":11,"#,
        r#""error":{"code":"woocommerce_rest_product_invalid_id","message":"Invalid ID.","#,
        r#""data":{"status":400}}}]}"#
    )
    .as_bytes();
    assert_eq!(rejected(w.outcome(200, None, partly)), "woocommerce: update 11: Invalid ID.");
    assert!(matches!(w.outcome(200, None, b"<!DOCTYPE html><html>"), Outcome::Transient(_)), "a login page");
    assert_eq!(w.outcome(429, Some(30), b""), Outcome::Throttled { retry_after_secs: Some(30) });
    let why = rejected(
        w.outcome(
            401,
            None,
            concat!(
                r#"{"code":"woocommerce_rest_cannot_edit","message":"Sorry,"#,
                r#" you are not allowed to edit this resource.","data":{"status":401}}"#
            )
            .as_bytes(),
        ),
    );
    assert!(why.contains("not allowed"), "{why}");
    assert!(matches!(w.outcome(503, None, b""), Outcome::Transient(_)));
}

// ----------------------------------------------------------------- Amazon

fn amazon_settings() -> BTreeMap<String, String> {
    map(&[("seller_id", "A2EUQ1WTGCTBG2"), ("marketplace_id", "ATVPDKIKX0DER")])
}

fn amazon_creds() -> BTreeMap<String, String> {
    map(&[
        ("client_id", "amzn1.application-oa2-client.abc"),
        ("client_secret", "s3cr3t"),
        ("refresh_token", "Atzr|xyz"),
    ])
}

#[test]
fn amazon_refreshes_its_token_with_lwa() {
    let (settings, creds) = (amazon_settings(), amazon_creds());
    let conn = Conn { settings: &settings, credentials: &creds };
    let a = api(Kind::Amazon);
    let req = a.token_request(conn).unwrap().expect("a refresh");
    assert_eq!((req.host, req.method, req.path.as_str()), (Host::Auth, Method::Post, "/auth/o2/token"));
    assert_eq!(a.base_url(conn, Host::Auth).unwrap(), "https://api.amazon.com");
    assert_eq!(a.base_url(conn, Host::Api).unwrap(), "https://sellingpartnerapi-na.amazon.com");
    assert_eq!(
        form(&req),
        map(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "Atzr|xyz"),
            ("client_id", "amzn1.application-oa2-client.abc"),
            ("client_secret", "s3cr3t")
        ])
    );
    let shown = format!("{req:?}");
    assert!(!shown.contains("s3cr3t") && !shown.contains("Atzr"), "{shown}");
    let token = a
        .read_token(
            br#"{"access_token":"Atza|IQEB","refresh_token":"Atzr|xyz","token_type":"bearer","expires_in":3600}"#,
        )
        .unwrap();
    assert_eq!((token.access_token.as_str(), token.expires_in_secs), ("Atza|IQEB", 3600));
    assert!(!format!("{token:?}").contains("Atza"));
    let err = a
        .read_token(br#"{"error":"invalid_grant","error_description":"The request has an invalid grant parameter"}"#)
        .unwrap_err();
    assert!(err.contains("invalid grant parameter"), "{err}");
    let mut get = a.poll_request(conn, None, 0, None).unwrap().unwrap();
    assert!(a.authorize(conn, None, &mut get).unwrap_err().0.contains("refresh"));
    a.authorize(conn, Some("Atza|IQEB"), &mut get).unwrap();
    assert_eq!(get.header("x-amz-access-token"), Some("Atza|IQEB"));
    let eu = map(&[("region", "eu"), ("marketplace_id", "A1PA6795UKMFR9")]);
    assert_eq!(
        a.base_url(Conn { settings: &eu, credentials: &creds }, Host::Api).unwrap(),
        "https://sellingpartnerapi-eu.amazon.com"
    );
    let none = map(&[]);
    assert!(a.token_request(Conn { settings: &settings, credentials: &none }).unwrap_err().0.contains("`client_id`"));
}

#[test]
fn amazon_sets_stock_one_listing_at_a_time() {
    let (settings, creds) = (amazon_settings(), amazon_creds());
    let conn = Conn { settings: &settings, credentials: &creds };
    let a = api(Kind::Amazon);
    let reqs: Vec<Request> = a
        .stock_requests(conn, &[level("SOAP-LAV", None, 12), level("TEE/RED M", None, 0)])
        .unwrap()
        .into_iter()
        .map(send)
        .collect();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method, reqs[0].path.as_str()),
        (Method::Patch, "/listings/2021-08-01/items/A2EUQ1WTGCTBG2/SOAP-LAV?marketplaceIds=ATVPDKIKX0DER")
    );
    assert_eq!(
        body(&reqs[0]),
        json!({"productType": "PRODUCT", "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
               "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}]}]})
    );
    assert!(reqs[1].path.contains("/TEE%2FRED%20M?"), "{}", reqs[1].path);
    assert_eq!(a.limit_for(&reqs[0]).0, "patchListingsItem");
    assert_eq!(a.max_levels_per_request(), 1);
    let why = rejected(
        a.outcome(
            200,
            None,
            concat!(
                r#"{"sku":"SOAP-LAV","status":"INVALID","submissionId":"f1dc","#,
                r#""issues":[{"code":"90220","#,
                r#""message":"'fulfillment_availability' is required but not supplied.","#,
                r#""severity":"ERROR"},{"code":"1","message":"just a note","severity":"WARNING"}]}"#
            )
            .as_bytes(),
        ),
    );
    assert!(why.contains("SOAP-LAV") && why.contains("90220") && !why.contains("just a note"), "{why}");
    assert_eq!(
        a.outcome(200, None, br#"{"sku":"SOAP-LAV","status":"ACCEPTED","submissionId":"f1dc","issues":[]}"#),
        Outcome::Accepted
    );
    let no_seller = map(&[("marketplace_id", "ATVPDKIKX0DER")]);
    assert!(a
        .stock_requests(Conn { settings: &no_seller, credentials: &creds }, &[level("A", None, 1)])
        .unwrap_err()
        .0
        .contains("`seller_id`"));
}

#[test]
fn amazon_polls_orders_then_their_items_and_the_join_parses() {
    let (settings, creds) = (amazon_settings(), amazon_creds());
    let conn = Conn { settings: &settings, credentials: &creds };
    let a = api(Kind::Amazon);
    let first = a.poll_request(conn, None, 1_795_132_800_000, None).unwrap().unwrap();
    assert_eq!(
        first.path,
        "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&LastUpdatedAfter=2026-11-20T00%3A00%3A00.000Z\
         &OrderStatuses=Unshipped%2CPartiallyShipped%2CShipped%2CInvoiceUnconfirmed%2CCanceled%2CUnfulfillable\
         &MaxResultsPerPage=100"
    );
    assert_eq!(
        a.limit_for(&first),
        ("getOrders", switchyard_channels::remote::RateLimit { requests: 1, per_ms: 60_000, burst: 20 })
    );
    let resumed = a.poll_request(conn, Some("2026-11-20T18:40:02Z"), 0, None).unwrap().unwrap();
    assert!(resumed.path.contains("LastUpdatedAfter=2026-11-20T18%3A40%3A02Z&"), "{}", resumed.path);
    let next = a
        .poll_request(conn, Some("2026-11-20T18:40:02Z"), 0, Some("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4="))
        .unwrap()
        .unwrap();
    assert_eq!(next.path, "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&NextToken=2YgYW55IGNhcm5hbCBwbGVhc3VyZS4%3D");

    let page = a.read_poll(&fixture("amazon/get_orders_page.json"), None).unwrap();
    assert_eq!(page.next.as_deref(), Some("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4="));
    assert_eq!(page.newest.as_deref(), Some("2026-11-20T18:40:02Z"));
    assert_eq!(page.orders.len(), 2);
    let mut parsed = Vec::new();
    for polled in page.orders {
        let Polled::NeedsItems { order, items } = polled else { panic!("Amazon orders need their items") };
        let id = serde_json::from_slice::<Value>(&order).unwrap()["AmazonOrderId"].as_str().unwrap().to_owned();
        assert_eq!((items.method, items.path.clone()), (Method::Get, format!("/orders/v0/orders/{id}/orderItems")));
        assert_eq!(a.limit_for(&items).0, "getOrderItems");
        let joined = a.with_items(&order, &fixture(&format!("amazon/get_order_items_{id}.json"))).unwrap();
        parsed.extend(parse(Kind::Amazon, &joined).unwrap_or_else(|e| panic!("{id}: {e}")));
    }
    // The same orders as the {"order", "items"} fixtures they were written from.
    let expected: Vec<_> = ["amazon/mfn_unshipped_promotion.json", "amazon/afn_shipped_de.json"]
        .iter()
        .flat_map(|p| parse(Kind::Amazon, &fixture(p)).unwrap())
        .collect();
    assert_eq!(parsed, expected);
    assert!(a
        .read_poll(br#"{"errors":[{"code":"InvalidInput","message":"Invalid MarketplaceIds"}]}"#, None)
        .unwrap_err()
        .contains("Invalid MarketplaceIds"));
    assert!(a.with_items(b"{", b"{}").is_err());
}

#[test]
fn amazon_confirms_shipments_by_order_item_and_cannot_cancel() {
    let (settings, creds) = (amazon_settings(), amazon_creds());
    let conn = Conn { settings: &settings, credentials: &creds };
    let a = api(Kind::Amazon);
    let mut f = shipment("113-4567890-1234567", &[("SOAP-LAV", 3), ("asin:B0C1TOTE02", 1)]);
    f.carrier = "Acme Couriers".into();
    let Step::Ask { request, then } = a.fulfilment_request(conn, &f).unwrap() else { panic!("asks for items") };
    assert_eq!(request.path, "/orders/v0/orders/113-4567890-1234567/orderItems");
    let confirm = send(a.resume(conn, &then, &fixture("amazon/get_order_items_113-4567890-1234567.json")).unwrap());
    assert_eq!(
        (confirm.method, confirm.path.as_str()),
        (Method::Post, "/orders/v0/orders/113-4567890-1234567/shipmentConfirmation")
    );
    assert_eq!(a.limit_for(&confirm).0, "confirmShipment");
    let b = body(&confirm);
    let reference = b["packageDetail"]["packageReferenceId"].as_str().unwrap().to_owned();
    assert!(reference.parse::<u64>().is_ok_and(|n| n > 0), "{reference}");
    assert_eq!(
        b,
        json!({"marketplaceId": "ATVPDKIKX0DER", "packageDetail": {
            "packageReferenceId": reference, "carrierCode": "Other", "carrierName": "Acme Couriers",
            "trackingNumber": "1Z999AA10123456784", "shipDate": "2026-11-22T10:30:00.000Z",
            "orderItems": [{"orderItemId": "68828574383266", "quantity": 3},
                           {"orderItemId": "68828574383267", "quantity": 1}]}})
    );
    // The same shipment gets the same package, a known carrier its code.
    let mut ups = f.clone();
    ups.carrier = "ups".into();
    let Step::Ask { then, .. } = a.fulfilment_request(conn, &ups).unwrap() else { panic!() };
    let b2 = body(&send(a.resume(conn, &then, &fixture("amazon/get_order_items_113-4567890-1234567.json")).unwrap()));
    assert_eq!(
        (b2["packageDetail"]["packageReferenceId"].as_str(), b2["packageDetail"]["carrierCode"].as_str()),
        (Some(reference.as_str()), Some("UPS"))
    );
    assert!(b2["packageDetail"].get("carrierName").is_none());
    // Already shipped: nothing left.
    let shipped = shipment("302-1122334-5566778", &[("MUG-BLU", 1)]);
    let Step::Ask { then, .. } = a.fulfilment_request(conn, &shipped).unwrap() else { panic!() };
    let why = rejected(a.resume(conn, &then, &fixture("amazon/get_order_items_302-1122334-5566778.json")).unwrap_err());
    assert!(why.contains("left to ship"), "{why}");
    assert_eq!(a.outcome(204, None, b""), Outcome::Accepted);
    let err: Unsendable = a.cancel_request(conn, "113-4567890-1234567", "x").unwrap_err();
    assert!(err.0.contains("Seller Central"), "{err}");
}

#[test]
fn amazon_answers_are_classified() {
    let a = api(Kind::Amazon);
    assert_eq!(
        a.outcome(429, None, br#"{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota"}]}"#),
        Outcome::Throttled { retry_after_secs: None }
    );
    assert!(matches!(a.outcome(503, None, b""), Outcome::Transient(_)));
    assert!(rejected(a.outcome(
        403,
        None,
        br#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied."}]}"#
    ))
    .contains("Unauthorized"));
    assert!(matches!(a.outcome(200, None, b"\x00\xff"), Outcome::Transient(_)));
}

// ------------------------------------------------------------------- Etsy

fn etsy_conn_parts() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    (
        map(&[("shop_id", "38291010")]),
        map(&[
            ("client_id", "1aa2bb33c44d55eeeeee6fff"),
            ("shared_secret", "ssh"),
            ("refresh_token", "12345678.rt-old"),
        ]),
    )
}

#[test]
fn etsy_tokens_rotate_and_requests_carry_key_and_secret() {
    let (settings, creds) = etsy_conn_parts();
    let conn = Conn { settings: &settings, credentials: &creds };
    let e = api(Kind::Etsy);
    let req = e.token_request(conn).unwrap().unwrap();
    assert_eq!((req.host, req.path.as_str()), (Host::Auth, "/v3/public/oauth/token"));
    assert_eq!(e.base_url(conn, Host::Auth).unwrap(), "https://api.etsy.com");
    assert_eq!(
        form(&req),
        map(&[
            ("grant_type", "refresh_token"),
            ("client_id", "1aa2bb33c44d55eeeeee6fff"),
            ("refresh_token", "12345678.rt-old")
        ])
    );
    let t = e
        .read_token(
            concat!(
                r#"{"access_token":"12345678.at-new","token_type":"Bearer","expires_in":3600,"#,
                r#""refresh_token":"12345678.rt-new"}"#
            )
            .as_bytes(),
        )
        .unwrap();
    assert_eq!(t.refresh_token.as_deref(), Some("12345678.rt-new"));
    let mut get = e.poll_request(conn, None, 0, None).unwrap().unwrap();
    e.authorize(conn, Some("12345678.at-new"), &mut get).unwrap();
    assert_eq!(get.header("x-api-key"), Some("1aa2bb33c44d55eeeeee6fff:ssh"));
    assert_eq!(get.header("authorization"), Some("Bearer 12345678.at-new"));
    assert!(!format!("{get:?}").contains("12345678.at-new"));
    let no_secret = map(&[("client_id", "k")]);
    let mut again = get.clone();
    assert!(e
        .authorize(Conn { settings: &settings, credentials: &no_secret }, Some("t"), &mut again)
        .unwrap_err()
        .0
        .contains("`shared_secret`"));
}

#[test]
fn etsy_sets_stock_by_rewriting_the_listing_inventory() {
    let (settings, creds) = etsy_conn_parts();
    let conn = Conn { settings: &settings, credentials: &creds };
    let e = api(Kind::Etsy);
    let steps =
        e.stock_requests(conn, &[level("MUG-BLU", Some("1234567890"), 9), level("LAMP", Some("55"), 1)]).unwrap();
    assert_eq!(steps.len(), 2, "one per listing");
    let Step::Ask { request, then } = steps.into_iter().next().unwrap() else { panic!("reads first") };
    assert_eq!((request.method, request.path.as_str()), (Method::Get, "/v3/application/listings/1234567890/inventory"));
    let put = send(e.resume(conn, &then, &fixture("etsy/listing_inventory.json")).unwrap());
    assert_eq!((put.method, put.path.as_str()), (Method::Put, "/v3/application/listings/1234567890/inventory"));
    assert_eq!(
        body(&put),
        json!({
            "products": [
                {"sku": "MUG-BLU",
                 "offerings": [{"price": 12.5, "quantity": 9, "is_enabled": true, "readiness_state_id": 1402336022}],
                  "property_values": [{"property_id": 200, "property_name": "Primary color", "value_ids": [1213],
                                       "values": ["Blue"]}]},
                {"sku": "MUG-RED",
                 "offerings": [{"price": 13.95, "quantity": 7, "is_enabled": true, "readiness_state_id": 1402336022}],
                  "property_values": [{"property_id": 200, "property_name": "Primary color", "value_ids": [1],
                                       "values": ["Red"]}]}
            ],
            "price_on_property": [200], "quantity_on_property": [200], "sku_on_property": [200],
            "readiness_state_on_property": []
        })
    );
    // A SKU the listing does not hold; quantities that must be shared but differ.
    let steps = e.stock_requests(conn, &[level("MUG-GRN", Some("1"), 1)]).unwrap();
    let Step::Ask { then, .. } = steps.into_iter().next().unwrap() else { panic!() };
    assert!(rejected(e.resume(conn, &then, &fixture("etsy/listing_inventory.json")).unwrap_err()).contains("MUG-GRN"));
    let mut shared: Value = serde_json::from_slice(&fixture("etsy/listing_inventory.json")).unwrap();
    shared["quantity_on_property"] = json!([]);
    let steps = e.stock_requests(conn, &[level("MUG-BLU", Some("1"), 1), level("MUG-RED", Some("1"), 2)]).unwrap();
    let Step::Ask { then, .. } = steps.into_iter().next().unwrap() else { panic!() };
    assert!(rejected(e.resume(conn, &then, shared.to_string().as_bytes()).unwrap_err()).contains("share one quantity"));
    // A listing without variations, named by its id; Etsy's cap of 999.
    let single = json!({"products": [{"sku": "", "offerings": [{"quantity": 1, "is_enabled": true,
        "price": {"amount": 800, "divisor": 100, "currency_code": "EUR"}}], "property_values": []}],
        "price_on_property": [], "quantity_on_property": [], "sku_on_property": []});
    let steps = e.stock_requests(conn, &[level("listing:77", Some("77"), 5000)]).unwrap();
    let Step::Ask { then, .. } = steps.into_iter().next().unwrap() else { panic!() };
    let b = body(&send(e.resume(conn, &then, single.to_string().as_bytes()).unwrap()));
    assert_eq!(b["products"][0]["offerings"][0], json!({"price": 8.0, "quantity": 999, "is_enabled": true}));
    assert!(e.stock_requests(conn, &[level("X", None, 1)]).unwrap_err().0.contains("listing id"));
}

#[test]
fn etsy_polls_receipts_by_offset_and_ships_by_receipt() {
    let (settings, creds) = etsy_conn_parts();
    let conn = Conn { settings: &settings, credentials: &creds };
    let e = api(Kind::Etsy);
    let first = e.poll_request(conn, None, 1_763_899_999_500, None).unwrap().unwrap();
    assert_eq!(
        first.path,
        "/v3/application/shops/38291010/receipts?min_last_modified=1763899999&sort_on=created&sort_order=asc\
         &limit=100&offset=0"
    );
    let next = e.poll_request(conn, Some("1763900000"), 0, Some("3")).unwrap().unwrap();
    assert!(next.path.contains("min_last_modified=1763900000&") && next.path.ends_with("&offset=3"), "{}", next.path);
    assert!(e.poll_request(conn, Some("yesterday"), 0, None).is_err());
    let page = e.read_poll(&fixture("etsy/receipts_page.json"), None).unwrap();
    assert_eq!((page.orders.len(), page.next.as_deref(), page.newest.as_deref()), (3, Some("3"), Some("1763985400")));
    let mut parsed = Vec::new();
    for polled in &page.orders {
        let Polled::Ready(receipt) = polled else { panic!("receipts are whole") };
        parsed.extend(parse(Kind::Etsy, receipt).unwrap());
    }
    assert_eq!(parsed, parse(Kind::Etsy, &fixture("etsy/receipts_page.json")).unwrap());
    let last = e.read_poll(&fixture("etsy/receipts_page.json"), Some("38")).unwrap();
    assert_eq!(last.next, None, "38 + 3 = all 41");

    let ship = send(e.fulfilment_request(conn, &shipment("3456000001", &[("ANY", 1)])).unwrap());
    assert_eq!(
        (ship.method, ship.path.as_str()),
        (Method::Post, "/v3/application/shops/38291010/receipts/3456000001/tracking")
    );
    assert_eq!(
        form(&ship),
        map(&[("tracking_code", "1Z999AA10123456784"), ("carrier_name", "UPS"), ("send_bcc", "false")])
    );
    assert!(e.cancel_request(conn, "3456000001", "x").unwrap_err().0.contains("Shop Manager"));
    let none = map(&[]);
    assert!(e
        .fulfilment_request(Conn { settings: &none, credentials: &creds }, &shipment("1", &[]))
        .unwrap_err()
        .0
        .contains("`shop_id`"));
    assert_eq!(e.outcome(201, None, br#"{"receipt_id":3456000001,"is_shipped":true}"#), Outcome::Accepted);
    assert!(rejected(e.outcome(400, None, br#"{"error":"Invalid carrier_name"}"#)).contains("Invalid carrier_name"));
}

// ------------------------------------------------------------------- eBay

fn ebay_parts() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    (
        map(&[]),
        map(&[("client_id", "Harbor-app-PRD-1"), ("client_secret", "PRD-secret"), ("refresh_token", "v^1.1#i^1#r^1")]),
    )
}

#[test]
fn ebay_refreshes_with_basic_auth_and_scopes() {
    let (settings, creds) = ebay_parts();
    let conn = Conn { settings: &settings, credentials: &creds };
    let e = api(Kind::Ebay);
    let mut req = e.token_request(conn).unwrap().unwrap();
    assert_eq!((req.host, req.path.as_str()), (Host::Auth, "/identity/v1/oauth2/token"));
    assert_eq!(
        form(&req),
        map(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "v^1.1#i^1#r^1"),
            (
                "scope",
                "https://api.ebay.com/oauth/api_scope/sell.inventory \
                         https://api.ebay.com/oauth/api_scope/sell.fulfillment"
            )
        ])
    );
    assert!(req.header("authorization").is_none());
    e.authorize(conn, None, &mut req).unwrap();
    assert_eq!(req.header("authorization"), Some("Basic SGFyYm9yLWFwcC1QUkQtMTpQUkQtc2VjcmV0"));
    let t = e
        .read_token(br#"{"access_token":"v^1.1#i^1#f^0","expires_in":7200,"token_type":"User Access Token"}"#)
        .unwrap();
    assert_eq!((t.expires_in_secs, t.refresh_token), (7200, None));
    let mut get = e.poll_request(conn, None, 0, None).unwrap().unwrap();
    e.authorize(conn, Some("v^1.1#i^1#f^0"), &mut get).unwrap();
    assert_eq!(get.header("authorization"), Some("Bearer v^1.1#i^1#f^0"));
    assert!(e.read_token(b"{}").is_err());
}

#[test]
fn ebay_sets_stock_25_skus_at_a_time_and_reads_each_skus_answer() {
    let (settings, creds) = ebay_parts();
    let conn = Conn { settings: &settings, credentials: &creds };
    let e = api(Kind::Ebay);
    let levels: Vec<StockLevel> = (0..260).map(|i| level(&format!("SKU-{i}"), None, i)).collect();
    let reqs: Vec<Request> = e.stock_requests(conn, &levels).unwrap().into_iter().map(send).collect();
    assert_eq!(reqs.len(), 11, "260 at 25 a request");
    assert_eq!(
        (reqs[0].method, reqs[0].path.as_str()),
        (Method::Post, "/sell/inventory/v1/bulk_update_price_quantity")
    );
    assert_eq!(body(&reqs[0])["requests"].as_array().unwrap().len(), 25);
    assert_eq!(body(&reqs[0])["requests"][1], json!({"sku": "SKU-1", "shipToLocationAvailability": {"quantity": 1}}));
    assert_eq!(body(&reqs[10])["requests"].as_array().unwrap().len(), 10);
    let why = rejected(e.outcome(200, None, &fixture("ebay/bulk_update_answer.json")));
    assert!(why.contains("MUG-BLU: The SKU MUG-BLU is not available") && !why.contains("SOAP-LAV"), "{why}");
    assert_eq!(e.outcome(200, None, br#"{"responses":[{"statusCode":200,"sku":"A"}]}"#), Outcome::Accepted);
    assert!(e.stock_requests(conn, &[level(&"X".repeat(51), None, 1)]).is_err());
}

#[test]
fn ebay_polls_orders_by_modification_date() {
    let (settings, creds) = ebay_parts();
    let conn = Conn { settings: &settings, credentials: &creds };
    let e = api(Kind::Ebay);
    let first = e.poll_request(conn, None, 1_795_132_800_000, None).unwrap().unwrap();
    assert_eq!(
        first.path,
        "/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B2026-11-20T00:00:00.000Z..%5D&limit=100&offset=0"
    );
    let next = e.poll_request(conn, Some("2026-11-21T16:05:30.000Z"), 0, Some("100")).unwrap().unwrap();
    assert_eq!(
        next.path,
        "/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B2026-11-21T16:05:30.000Z..%5D&limit=100&offset=100"
    );
    let odd = e.poll_request(conn, Some("2026&x=1"), 0, None).unwrap().unwrap();
    assert!(odd.path.contains("2026%26x%3D1"), "{}", odd.path);
    let page = e.read_poll(&fixture("ebay/orders_page.json"), None).unwrap();
    assert_eq!((page.orders.len(), page.next.clone()), (3, None));
    let mut parsed = Vec::new();
    for polled in &page.orders {
        let Polled::Ready(order) = polled else { panic!("orders are whole") };
        parsed.extend(parse(Kind::Ebay, order).unwrap());
    }
    assert_eq!(parsed, parse(Kind::Ebay, &fixture("ebay/orders_page.json")).unwrap());
    let mut more: Value = serde_json::from_slice(&fixture("ebay/orders_page.json")).unwrap();
    more["total"] = json!(120);
    more["offset"] = json!(100);
    more["orders"][0]["lastModifiedDate"] = json!("2026-11-30T00:00:00.000Z");
    let page = e.read_poll(more.to_string().as_bytes(), Some("100")).unwrap();
    assert_eq!((page.next.as_deref(), page.newest.as_deref()), (Some("103"), Some("2026-11-30T00:00:00.000Z")));
    assert_eq!(e.read_poll(br#"{"total":0,"limit":100,"offset":0}"#, None).unwrap().orders.len(), 0);
}

#[test]
fn ebay_ships_by_line_item_and_does_not_cancel() {
    let (settings, creds) = ebay_parts();
    let conn = Conn { settings: &settings, credentials: &creds };
    let e = api(Kind::Ebay);
    let f = shipment("12-03456-78901", &[("SOAP-LAV", 3), ("item:115522334499:410012345678", 1)]);
    let Step::Ask { request, then } = e.fulfilment_request(conn, &f).unwrap() else { panic!("asks for the order") };
    assert_eq!((request.method, request.path.as_str()), (Method::Get, "/sell/fulfillment/v1/order/12-03456-78901"));
    let post = send(e.resume(conn, &then, &fixture("ebay/order_discounted_multi.json")).unwrap());
    assert_eq!(
        (post.method, post.path.as_str()),
        (Method::Post, "/sell/fulfillment/v1/order/12-03456-78901/shipping_fulfillment")
    );
    assert_eq!(
        body(&post),
        json!({"lineItems": [{"lineItemId": "10055001234567", "quantity": 3},
                             {"lineItemId": "10055001234568", "quantity": 1}],
               "shippedDate": "2026-11-22T10:30:00.000Z", "shippingCarrierCode": "UPS",
               "trackingNumber": "1Z999AA10123456784"})
    );
    assert_eq!(e.outcome(201, None, b""), Outcome::Accepted, "201 Created, no body");
    let Step::Ask { then, .. } = e.fulfilment_request(conn, &shipment("12-03456-78901", &[("SOAP-LAV", 4)])).unwrap()
    else {
        panic!()
    };
    assert!(rejected(e.resume(conn, &then, &fixture("ebay/order_discounted_multi.json")).unwrap_err())
        .contains("1 more of SKU SOAP-LAV"));
    assert!(e.cancel_request(conn, "12-03456-78901", "x").unwrap_err().0.contains("Seller Hub"));
    let why = rejected(
        e.outcome(
            400,
            None,
            concat!(
                r#"{"errors":[{"errorId":32100,"domain":"API_FULFILLMENT","category":"REQUEST","#,
                r#""message":"Invalid order ID: 1"}]}"#
            )
            .as_bytes(),
        ),
    );
    assert!(why.contains("Invalid order ID"), "{why}");
}

// -------------------------------------------------------------- all kinds

const KINDS: [Kind; 5] = [Kind::Shopify, Kind::Woocommerce, Kind::Amazon, Kind::Etsy, Kind::Ebay];

#[test]
fn only_platforms_with_an_api_are_registered() {
    for kind in KINDS {
        assert_eq!(api(kind).kind(), kind);
    }
    for kind in [Kind::Pos, Kind::Wholesale, Kind::Api] {
        assert!(remote(kind).is_none());
    }
}

#[test]
fn every_platform_reads_the_common_statuses_alike() {
    for kind in KINDS {
        let r = api(kind);
        assert_eq!(r.outcome(429, Some(12), b""), Outcome::Throttled { retry_after_secs: Some(12) }, "{kind:?}");
        assert_eq!(r.outcome(429, None, b""), Outcome::Throttled { retry_after_secs: None }, "{kind:?}");
        assert!(matches!(r.outcome(500, None, b"boom"), Outcome::Transient(_)), "{kind:?}");
        assert!(matches!(r.outcome(400, None, b"{}"), Outcome::Rejected(_)), "{kind:?}");
        assert!(matches!(r.outcome(200, None, b"\xde\xad garbage"), Outcome::Transient(_)), "{kind:?}");
        assert!(matches!(r.outcome(302, None, b""), Outcome::Transient(_)), "{kind:?}");
    }
}

#[test]
fn no_credential_leaks_into_built_requests() {
    let settings = map(&[
        ("shop", "a"),
        ("location_id", "1"),
        ("store_url", "https://a.example"),
        ("seller_id", "S"),
        ("marketplace_id", "M"),
        ("shop_id", "1"),
    ]);
    let creds = map(&[
        ("access_token", "SECRET1"),
        ("consumer_key", "SECRET2"),
        ("consumer_secret", "SECRET3"),
        ("client_id", "SECRET4"),
        ("client_secret", "SECRET5"),
        ("refresh_token", "SECRET6"),
        ("shared_secret", "SECRET7"),
    ]);
    let conn = Conn { settings: &settings, credentials: &creds };
    for kind in KINDS {
        let r = api(kind);
        let mut reqs: Vec<Request> = Vec::new();
        for step in r.stock_requests(conn, &[level("A", Some("1"), 1)]).unwrap() {
            reqs.push(match step {
                Step::Send(req) | Step::Ask { request: req, .. } => req,
            });
        }
        if let Ok(Step::Send(req) | Step::Ask { request: req, .. }) =
            r.fulfilment_request(conn, &shipment("1", &[("A", 1)]))
        {
            reqs.push(req);
        }
        reqs.extend(r.cancel_request(conn, "1", "x"));
        reqs.extend(r.poll_request(conn, None, 0, None).unwrap());
        for req in &reqs {
            let text = format!("{:?} {:?}", req.headers, req.body.as_ref().map(|(_, b)| String::from_utf8_lossy(b)));
            assert!(!text.contains("SECRET"), "{kind:?}: {text}");
        }
        if let Some(mut token) = r.token_request(conn).unwrap() {
            r.authorize(conn, None, &mut token).unwrap();
            let shown = format!("{token:?}{}", serde_json::to_string(&token).unwrap());
            assert!(!shown.contains("SECRET"), "{kind:?}: {shown}");
        }
    }
}

proptest! {
    #[test]
    fn readers_never_panic_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        status in 100u16..600,
    ) {
        let settings = map(&[("shop", "a"), ("location_id", "1"), ("marketplace_id", "M")]);
        let creds = map(&[]);
        let conn = Conn { settings: &settings, credentials: &creds };
        for kind in KINDS {
            let r = api(kind);
            let _ = r.read_poll(&bytes, Some("7"));
            let _ = r.read_token(&bytes);
            let _ = r.outcome(status, None, &bytes);
            let _ = r.with_items(&bytes, &bytes);
            if let Ok(Step::Ask { then, .. }) = r.fulfilment_request(conn, &shipment("1", &[("A", 1)])) {
                let _ = r.resume(conn, &then, &bytes);
            }
            for step in r.stock_requests(conn, &[level("A", Some("1"), 1)]).unwrap_or_default() {
                if let Step::Ask { then, .. } = step {
                    let _ = r.resume(conn, &then, &bytes);
                }
            }
        }
    }

    #[test]
    fn readers_never_panic_on_json_shaped_junk(json in "[\\[\\]{}\",:0-9a-zA-Z_ .-]{0,200}") {
        let settings = map(&[("shop", "a"), ("location_id", "1"), ("marketplace_id", "M")]);
        let creds = map(&[]);
        let conn = Conn { settings: &settings, credentials: &creds };
        for kind in KINDS {
            let r = api(kind);
            let _ = r.read_poll(json.as_bytes(), None);
            let _ = r.outcome(200, None, json.as_bytes());
            if let Ok(Step::Ask { then, .. }) = r.fulfilment_request(conn, &shipment("1", &[("A", 1)])) {
                let _ = r.resume(conn, &then, json.as_bytes());
            }
        }
    }
}
