//! Each platform's payloads — fixtures written from the platforms' documented
//! field lists — become the canonical order, or are refused with the exact
//! place and reason; nothing panics on arbitrary input.

use proptest::prelude::*;
use switchyard_channels::{parse, ChannelOrder, FulfilledBy, Kind};
use switchyard_core::{NewOrder, OrderStatus};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn one(kind: Kind, path: &str) -> ChannelOrder {
    let mut orders = parse(kind, &fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(orders.len(), 1, "{path}");
    orders.remove(0)
}

/// The canonical order passes the core's own intake checks.
fn intake_accepts(o: &ChannelOrder) {
    if let Err(e) = NewOrder::parse(o.to_draft(&o.channel)) {
        panic!("the core refuses {}: {e}", o.external_id);
    }
}

fn lines(o: &ChannelOrder) -> Vec<(&str, i64, i64, i64)> {
    o.lines.iter().map(|l| (l.sku.as_str(), l.quantity, l.unit_price, l.discount)).collect()
}

#[test]
fn a_discounted_multi_line_shopify_order() {
    let o = one(Kind::Shopify, "shopify/orders_create_discounted.json");
    assert_eq!(o.external_id, "820982911946154508");
    assert_eq!(o.currency, "USD");
    // The gift card holds no stock and is left out; discounts are exact.
    assert_eq!(lines(&o), vec![("TEE-RED-M", 2, 2499, 500), ("TOTE-NAT", 1, 2500, 250)]);
    assert_eq!(o.shipping, 499);
    assert_eq!((o.status, o.payment.as_str(), o.fulfilled_by), (OrderStatus::Accepted, "paid", FulfilledBy::Merchant));
    assert_eq!(o.ship_to.name, "Jon Snow");
    assert_eq!(o.ship_to.line1, "123 Amoebobacterium St, Unit 806");
    assert_eq!((o.ship_to.region.as_str(), o.ship_to.country.as_str()), ("ON", "CA"));
    assert_eq!(o.ship_to.postal_code, "K2P0V6");
    assert_eq!(o.ship_to.lat, Some(45.41634));
    assert_eq!(o.service_level, None);
    intake_accepts(&o);
}

#[test]
fn a_cancelled_unpaid_international_shopify_order_without_skus() {
    let o = one(Kind::Shopify, "shopify/orders_cancelled_pending.json");
    assert_eq!(o.external_id, "450789469");
    assert_eq!((o.status, o.payment.as_str()), (OrderStatus::Cancelled, "pending"));
    assert_eq!(o.currency, "EUR");
    assert_eq!(lines(&o), vec![("variant:39072856", 3, 1200, 0)], "no SKU: the variant id, to be mapped");
    assert_eq!(o.service_level.as_deref(), Some("expedited"));
    assert_eq!(o.shipping, 1500);
    assert_eq!((o.ship_to.country.as_str(), o.ship_to.name.as_str()), ("DE", "Anna Berg"));
    intake_accepts(&o);
}

#[test]
fn a_shopify_order_list_maps_fulfilment_and_zero_decimal_currencies() {
    let orders = parse(Kind::Shopify, &fixture("shopify/orders_list_fulfilled.json")).expect("parse");
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0].status, OrderStatus::Shipped);
    assert_eq!(lines(&orders[0]), vec![("KNIFE-21", 1, 15800, 0)], "JPY has no minor unit");
    assert_eq!(orders[1].status, OrderStatus::PartiallyShipped);
    assert_eq!(lines(&orders[1]), vec![("TEE-RED-M", 4, 2499, 0)]);
    orders.iter().for_each(intake_accepts);
}

#[test]
fn a_processing_woocommerce_order_with_a_coupon() {
    let o = one(Kind::Woocommerce, "woocommerce/order_created_processing.json");
    assert_eq!((o.external_id.as_str(), o.status, o.payment.as_str()), ("727", OrderStatus::Accepted, "paid"));
    // A variation without a SKU is named by its id; the coupon is the line's discount.
    assert_eq!(lines(&o), vec![("WOO-SINGLE", 2, 300, 0), ("product:23", 1, 2397, 300)]);
    assert_eq!(o.shipping, 1000);
    assert_eq!(o.ship_to.line1, "969 Market, Suite 3");
    assert_eq!((o.ship_to.region.as_str(), o.ship_to.postal_code.as_str()), ("CA", "94103"));
    intake_accepts(&o);
}

#[test]
fn an_on_hold_woocommerce_order_splits_an_uneven_line_to_keep_the_total() {
    let o = one(Kind::Woocommerce, "woocommerce/order_updated_on_hold_eur.json");
    assert_eq!((o.status, o.payment.as_str(), o.currency.as_str()), (OrderStatus::PendingPayment, "pending", "EUR"));
    assert_eq!(lines(&o), vec![("SOAP-LAV", 1, 334, 0), ("SOAP-LAV", 2, 333, 0)]);
    let total: i64 = o.lines.iter().map(|l| l.quantity * l.unit_price).sum();
    assert_eq!(total, 1000, "10.00 exactly, never through the float price");
    // No shipping address: the billing address is where it goes.
    assert_eq!((o.ship_to.name.as_str(), o.ship_to.city.as_str()), ("Marie Curie", "Paris"));
}

#[test]
fn pos_sales_and_pickups() {
    let o = one(Kind::Pos, "pos/counter_sale.json");
    assert_eq!((o.status, o.pickup_location.as_deref()), (OrderStatus::Completed, Some("FLAGSHIP")));
    assert_eq!(lines(&o), vec![("TEE-RED-M", 1, 2800, 0), ("TOTE-NAT", 2, 1500, 0)]);
    let o = one(Kind::Pos, "pos/pickup_unpaid.json");
    assert_eq!((o.status, o.payment.as_str()), (OrderStatus::PendingPayment, "pending"));
    assert_eq!((o.service_level.as_deref(), o.ship_to.name.as_str()), (Some("pickup"), "Ana Lima"));
}

#[test]
fn a_wholesale_csv_makes_one_order_per_purchase_order() {
    let orders = parse(Kind::Wholesale, &fixture("wholesale/po.csv")).expect("parse");
    assert_eq!(orders.iter().map(|o| o.external_id.as_str()).collect::<Vec<_>>(), vec!["PO-5001", "PO-5002"]);
    assert_eq!(lines(&orders[0]), vec![("TEE-RED-M", 24, 1250, 0), ("TOTE-NAT", 12, 900, 0)]);
    assert_eq!(lines(&orders[1]), vec![("MUG-BLU", 48, 625, 0)]);
    assert_eq!(orders[1].ship_to.city, "Astoria");
    orders.iter().for_each(intake_accepts);
}

/// (kind, payload, where the error must point, words it must contain)
const REFUSED: &[(Kind, &str, &str, &str)] = &[
    (Kind::Shopify, "{\"id\": 1, \"currency\": \"USD\"", "line 1, column 27", "not valid JSON"),
    (Kind::Shopify, "[]", "the payload", "expected an object"),
    (Kind::Shopify, r#"{"id": 1, "currency": "USD", "line_items": []}"#, "line_items", "no line"),
    (Kind::Shopify, r#"{"id": 1, "currency": "ZZZ", "line_items": []}"#, "currency", "ZZZ"),
    (
        Kind::Shopify,
        r#"{"id": 1, "currency": "USD", "line_items": [{"sku": "A", "quantity": -2, "price": "1.00"}],
            "shipping_address": {"name": "A"}}"#,
        "line_items[0].quantity",
        "at least 1",
    ),
    (
        Kind::Shopify,
        r#"{"id": 1, "currency": "USD", "line_items": [{"sku": "A", "quantity": 1, "price": "1.005"}]}"#,
        "line_items[0].price",
        "decimal places",
    ),
    (
        Kind::Shopify,
        r#"{"id": 1, "currency": "USD", "line_items": [{"sku": "A", "quantity": 1, "price": "1.00"}]}"#,
        "billing_address",
        "no shipping or billing address",
    ),
    (
        Kind::Shopify,
        r#"{"id": 1, "currency": "USD", "line_items": [{"quantity": 1, "price": "1.00"}]}"#,
        "line_items[0]",
        "neither a sku nor a variant_id",
    ),
    (Kind::Woocommerce, r#"{"id": 5, "status": "shipped-ish", "currency": "USD"}"#, "status", "not a WooCommerce"),
    (
        Kind::Woocommerce,
        r#"{"id": 5, "status": "processing", "currency": "USD", "line_items": [{"sku": "A", "quantity": 1,
            "subtotal": "1.00", "total": "2.00"}], "billing": {}}"#,
        "line_items[0].total",
        "more than",
    ),
    (Kind::Pos, r#"{"location": "S", "receipt_id": "1", "lines": [], "tip": 5}"#, "tip", "not a field"),
    (
        Kind::Pos,
        r#"{"location": "S", "receipt_id": "1", "currency": "USD", "mode": "ship",
            "lines": [{"sku": "A", "quantity": 1, "unit_price": 100}]}"#,
        "customer",
        "needed to ship",
    ),
    (Kind::Wholesale, "po_number,sku,quantity\nPO1,A,1\n", "line 1", "no unit_price column"),
    (
        Kind::Wholesale,
        concat!(
            "po_number,sku,quantity,unit_price,currency,ship_name,ship_line1,ship_city,ship_region,",
            "ship_postal_code,ship_country\nPO1,A,1,1.00,USD,N,L,C,R,P,US\nPO1,B,two,1.00,USD,N,L,C,R,P,US\n"
        ),
        "line 3",
        "not a whole number",
    ),
    (
        Kind::Wholesale,
        concat!(
            "po_number,sku,quantity,unit_price,currency,ship_name,ship_line1,ship_city,ship_region,",
            "ship_postal_code,ship_country\nPO1,A,1,1.00,USD,N,L,C,R,P,US\nPO1,B,1,1.00,EUR,N,L,C,R,P,US\n"
        ),
        "line 3",
        "changes its currency",
    ),
];

#[test]
fn bad_payloads_are_refused_with_where_and_why() {
    for (kind, payload, at, words) in REFUSED {
        match parse(*kind, payload.as_bytes()) {
            Ok(o) => panic!("{kind:?} accepted {payload}: {o:?}"),
            Err(e) => {
                assert_eq!(e.at, *at, "{kind:?} {payload}: {e}");
                assert!(e.to_string().contains(words), "{kind:?} {payload}: {e}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No parser panics, whatever arrives.
    #[test]
    fn no_parser_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for kind in Kind::ALL {
            let _ = parse(kind, &bytes);
        }
    }

    /// Nor on JSON that is almost right: a real payload with one value replaced.
    #[test]
    fn no_parser_panics_on_mutated_fixtures(pick in 0usize..4, at in any::<prop::sample::Index>(), junk in ".{0,12}") {
        let (kind, path) = [
            (Kind::Shopify, "shopify/orders_create_discounted.json"),
            (Kind::Woocommerce, "woocommerce/order_created_processing.json"),
            (Kind::Pos, "pos/counter_sale.json"),
            (Kind::Wholesale, "wholesale/po.csv"),
        ][pick];
        let mut text = String::from_utf8(fixture(path)).expect("utf-8");
        let cut = at.index(text.len());
        let cut = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(cut, &junk);
        let _ = parse(kind, text.as_bytes());
    }
}
