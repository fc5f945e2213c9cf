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

#[test]
fn an_unshipped_amazon_order_splits_an_uneven_item_price_and_keeps_its_promotion() {
    let o = one(Kind::Amazon, "amazon/mfn_unshipped_promotion.json");
    assert_eq!(o.channel, "amazon");
    assert_eq!(o.external_id, "113-4567890-1234567");
    assert_eq!(o.currency, "USD");
    assert_eq!((o.status, o.payment.as_str(), o.fulfilled_by), (OrderStatus::Accepted, "paid", FulfilledBy::Merchant));
    // ItemPrice is the total for the quantity: 10.00 for 3 is 1 × 3.34 + 2 × 3.33.
    assert_eq!(
        lines(&o),
        vec![("SOAP-LAV", 1, 334, 150), ("SOAP-LAV", 2, 333, 0), ("TOTE-NAT", 1, 2499, 0)],
        "the promotion stays whole on the first of the split lines"
    );
    assert_eq!(o.shipping, 499, "ShippingPrice 5.99 less ShippingDiscount 1.00");
    let goods: i64 = o.lines.iter().map(|l| l.quantity * l.unit_price - l.discount).sum();
    assert_eq!(goods + o.shipping, 3848, "OrderTotal 38.48 to the cent");
    assert_eq!(o.service_level.as_deref(), Some("expedited"));
    assert_eq!(o.pickup_location, None);
    assert_eq!(o.ship_to.name, "Dana Whitfield");
    assert_eq!(o.ship_to.line1, "4100 SE Hawthorne Blvd, Apt 12");
    assert_eq!((o.ship_to.city.as_str(), o.ship_to.region.as_str()), ("Portland", "OR"));
    assert_eq!((o.ship_to.postal_code.as_str(), o.ship_to.country.as_str()), ("97214-5246", "US"));
    intake_accepts(&o);
}

#[test]
fn a_fulfilled_by_amazon_order_is_recorded_as_the_marketplaces() {
    // The order and items given as bare payloads, not whole responses.
    let o = one(Kind::Amazon, "amazon/afn_shipped_de.json");
    assert_eq!(o.external_id, "302-1122334-5566778");
    assert_eq!((o.status, o.fulfilled_by), (OrderStatus::Shipped, FulfilledBy::Marketplace));
    assert_eq!((o.currency.as_str(), o.payment.as_str()), ("EUR", "paid"));
    assert_eq!(lines(&o), vec![("MUG-BLU", 2, 1999, 0)]);
    assert_eq!(o.shipping, 0);
    assert_eq!(o.service_level, None, "Prime speeds only what we ship ourselves");
    assert_eq!((o.ship_to.name.as_str(), o.ship_to.line1.as_str()), ("Jonas Keller", "Friedrichstraße 123"));
    assert_eq!((o.ship_to.postal_code.as_str(), o.ship_to.country.as_str()), ("10117", "DE"));
    intake_accepts(&o);
}

#[test]
fn an_amazon_order_list_with_paged_items_a_prime_yen_order_and_a_cancellation() {
    let orders = parse(Kind::Amazon, &fixture("amazon/orders_list_prime_jp_and_canceled.json")).expect("parse");
    assert_eq!(orders.len(), 2);
    let jp = &orders[0];
    assert_eq!((jp.external_id.as_str(), jp.status), ("503-7766554-3322110", OrderStatus::Accepted));
    assert_eq!(jp.currency, "JPY");
    // Two pages of items joined; no SellerSKU: the ASIN, to be mapped.
    assert_eq!(lines(jp), vec![("KNIFE-21", 1, 12000, 0), ("asin:B0C1CLOTH9", 2, 1500, 0)], "JPY has no minor unit");
    assert_eq!(jp.shipping, 800);
    assert_eq!(jp.service_level.as_deref(), Some("expedited"), "a Prime order we ship is at least expedited");
    assert_eq!(jp.ship_to.line1, "1-2-3 Jingumae, Shibuya Heights 405");
    assert_eq!((jp.ship_to.region.as_str(), jp.ship_to.country.as_str()), ("Tokyo", "JP"));
    let gone = &orders[1];
    assert_eq!((gone.external_id.as_str(), gone.status), ("113-0001112-2223334", OrderStatus::Cancelled));
    assert_eq!((gone.currency.as_str(), gone.fulfilled_by), ("USD", FulfilledBy::Merchant));
    assert_eq!(lines(gone), vec![("TEE-RED-M", 1, 2800, 0)], "the item cancelled on its own (quantity 0) is left out");
    assert_eq!(gone.ship_to, switchyard_core::ShipTo::default(), "a cancelled order needs no address");
    orders.iter().for_each(intake_accepts);
}

#[test]
fn a_paid_etsy_receipt_shares_its_coupon_exactly_over_the_lines() {
    let o = one(Kind::Etsy, "etsy/receipt_paid_coupon.json");
    assert_eq!(o.channel, "etsy");
    assert_eq!(o.external_id, "3456789012");
    assert_eq!((o.status, o.payment.as_str(), o.fulfilled_by), (OrderStatus::Accepted, "paid", FulfilledBy::Merchant));
    assert_eq!(o.currency, "USD");
    // 10.00 off 45.00 + 14.99: 750.1 and 249.9 minor units, the leftover unit to the larger remainder.
    assert_eq!(lines(&o), vec![("MUG-BLU", 2, 2250, 750), ("listing:1234567002", 1, 1499, 250)]);
    assert_eq!(o.shipping, 850);
    assert_eq!(o.service_level.as_deref(), Some("expedited"), "a Priority Mail upgrade");
    assert_eq!(o.ship_to.name, "Priya Natarajan");
    assert_eq!(o.ship_to.line1, "77 Massachusetts Ave, Room 4-105");
    assert_eq!((o.ship_to.city.as_str(), o.ship_to.region.as_str()), ("Cambridge", "MA"));
    assert_eq!((o.ship_to.postal_code.as_str(), o.ship_to.country.as_str()), ("02139", "US"));
    intake_accepts(&o);
}

#[test]
fn an_etsy_receipts_page_maps_completed_cancelled_and_unpaid_receipts() {
    let orders = parse(Kind::Etsy, &fixture("etsy/receipts_page.json")).expect("parse");
    assert_eq!(
        orders.iter().map(|o| o.external_id.as_str()).collect::<Vec<_>>(),
        ["3456000001", "3456000002", "3456000003"]
    );
    let gb = &orders[0];
    assert_eq!((gb.status, gb.payment.as_str(), gb.currency.as_str()), (OrderStatus::Completed, "paid", "GBP"));
    // The digital pattern holds no stock; 35000/1000 is 35.00 exactly.
    assert_eq!(lines(gb), vec![("CUSHION-QLT", 1, 3500, 0)]);
    assert_eq!((gb.shipping, gb.service_level.as_deref()), (599, None));
    assert_eq!((gb.ship_to.postal_code.as_str(), gb.ship_to.country.as_str()), ("NW1 6XE", "GB"));
    let fr = &orders[1];
    assert_eq!((fr.status, fr.currency.as_str()), (OrderStatus::Cancelled, "EUR"));
    assert_eq!(lines(fr), vec![("SOAP-LAV", 3, 1000, 0)]);
    assert_eq!(
        (fr.ship_to.name.as_str(), fr.ship_to.city.as_str(), fr.ship_to.region.as_str()),
        ("Léa Dubois", "Paris", "")
    );
    let open = &orders[2];
    assert_eq!((open.status, open.payment.as_str()), (OrderStatus::PendingPayment, "pending"));
    assert_eq!(lines(open), vec![("TEE-RED-M", 1, 2800, 0)]);
    orders.iter().for_each(intake_accepts);
}

#[test]
fn a_discounted_multi_line_ebay_order() {
    let o = one(Kind::Ebay, "ebay/order_discounted_multi.json");
    assert_eq!(o.channel, "ebay");
    assert_eq!(o.external_id, "12-03456-78901");
    assert_eq!((o.status, o.payment.as_str(), o.fulfilled_by), (OrderStatus::Accepted, "paid", FulfilledBy::Merchant));
    assert_eq!(o.currency, "USD");
    // lineItemCost 20.00 for 3 → 2 × 6.67 + 1 × 6.66; discount 20.00 − discountedLineItemCost 18.00. No SKU: the
    // listing and variation ids.
    assert_eq!(
        lines(&o),
        vec![("SOAP-LAV", 2, 667, 200), ("SOAP-LAV", 1, 666, 0), ("item:115522334499:410012345678", 1, 2499, 0)]
    );
    assert_eq!(o.shipping, 795, "deliveryCost 8.95 less a deliveryDiscount written as -1.00");
    assert_eq!(o.service_level.as_deref(), Some("expedited"), "USPSPriority");
    assert_eq!(o.ship_to.name, "Mark Kowalski");
    assert_eq!(o.ship_to.line1, "1501 Pike Pl, Ste 300");
    assert_eq!((o.ship_to.city.as_str(), o.ship_to.region.as_str()), ("Seattle", "WA"));
    assert_eq!((o.ship_to.postal_code.as_str(), o.ship_to.country.as_str()), ("98101-1542", "US"));
    intake_accepts(&o);
}

#[test]
fn an_ebay_orders_page_maps_cancellation_partial_shipment_and_an_unpaid_pickup() {
    let orders = parse(Kind::Ebay, &fixture("ebay/orders_page.json")).expect("parse");
    assert_eq!(orders.len(), 3);
    let uk = &orders[0];
    assert_eq!(
        (uk.external_id.as_str(), uk.status, uk.currency.as_str()),
        ("23-09876-54321", OrderStatus::Cancelled, "GBP")
    );
    assert_eq!(lines(uk), vec![("TEE-RED-M", 1, 1250, 0)]);
    assert_eq!((uk.shipping, uk.service_level.as_deref()), (320, None));
    assert_eq!((uk.ship_to.city.as_str(), uk.ship_to.country.as_str()), ("Cardiff", "GB"));
    let au = &orders[1];
    assert_eq!((au.status, au.payment.as_str(), au.currency.as_str()), (OrderStatus::PartiallyShipped, "paid", "AUD"));
    assert_eq!(lines(au), vec![("MUG-BLU", 2, 3000, 0), ("TOTE-NAT", 1, 3000, 0)]);
    assert_eq!((au.shipping, au.service_level.as_deref()), (0, Some("expedited")));
    assert_eq!((au.ship_to.region.as_str(), au.ship_to.country.as_str()), ("NSW", "AU"));
    let pickup = &orders[2];
    assert_eq!((pickup.status, pickup.payment.as_str()), (OrderStatus::PendingPayment, "pending"));
    assert_eq!(
        (pickup.service_level.as_deref(), pickup.pickup_location.as_deref()),
        (Some("pickup"), Some("FLAGSHIP"))
    );
    assert_eq!(lines(pickup), vec![("KNIFE-21", 1, 4000, 500)], "a promotion written as -5.00 takes 5.00 off");
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
    (Kind::Amazon, r#"{"payload": {"AmazonOrderId": "113-1"}}"#, "the payload", "on its own"),
    (Kind::Amazon, r#"{"order": {"AmazonOrderId": "113-1"}}"#, "items", "is missing"),
    (
        Kind::Amazon,
        r#"{"order": {"errors": [{"code": "InvalidInput", "message": "Invalid order id"}]}, "items": []}"#,
        "order.errors",
        "Amazon answered with an error, not an order: InvalidInput: Invalid order id",
    ),
    (
        Kind::Amazon,
        r#"{"order": {"AmazonOrderId": "A1", "OrderStatus": "Pending", "FulfillmentChannel": "MFN"},
            "items": {"AmazonOrderId": "A1", "OrderItems": [{"ASIN": "B1", "SellerSKU": "S", "QuantityOrdered": 1}]}}"#,
        "items.OrderItems[0].ItemPrice",
        "no prices while an order is Pending",
    ),
    (
        Kind::Amazon,
        r#"{"order": {"payload": {"Orders": [{"AmazonOrderId": "A2", "OrderStatus": "Unshipped"}]}},
            "items": {"payload": {"AmazonOrderId": "A1", "OrderItems": []}}}"#,
        "order.payload.Orders[0]",
        "has no items in \"items\" (getOrders does not list them): add the getOrderItems response for A2",
    ),
    (
        Kind::Amazon,
        r#"{"order": {"AmazonOrderId": "A1", "OrderStatus": "Unshipped"},
            "items": {"AmazonOrderId": "A1", "NextToken": "abc", "OrderItems": []}}"#,
        "items.NextToken",
        "more items are on another page",
    ),
    (
        Kind::Amazon,
        r#"{"order": {"AmazonOrderId": "A1", "OrderStatus": "Unshipped"},
            "items": [{"AmazonOrderId": "A1", "OrderItems": []}, {"AmazonOrderId": "A9", "OrderItems": []}]}"#,
        "items[1]",
        "order A9, which is not in",
    ),
    (
        Kind::Amazon,
        r#"{"order": {"AmazonOrderId": "A1", "OrderStatus": "Delivered", "FulfillmentChannel": "MFN"},
            "items": {"AmazonOrderId": "A1", "OrderItems": []}}"#,
        "order.OrderStatus",
        "not an Amazon order status",
    ),
    (
        Kind::Amazon,
        r#"{"order": {"AmazonOrderId": "A1", "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN",
            "OrderTotal": {"CurrencyCode": "USD", "Amount": "1.00"}},
            "items": {"AmazonOrderId": "A1", "OrderItems": [{"SellerSKU": "S", "QuantityOrdered": 1,
            "ItemPrice": {"CurrencyCode": "USD", "Amount": "1.00"},
            "PromotionDiscount": {"CurrencyCode": "EUR", "Amount": "0.50"}}]}}"#,
        "items.OrderItems[0].PromotionDiscount.CurrencyCode",
        "EUR is not the order's currency USD",
    ),
    (
        Kind::Amazon,
        r#"{"order": {"AmazonOrderId": "A1", "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN",
            "OrderTotal": {"CurrencyCode": "USD", "Amount": "1.00"}},
            "items": {"AmazonOrderId": "A1", "OrderItems": [{"SellerSKU": "S", "QuantityOrdered": 1,
            "ItemPrice": {"CurrencyCode": "USD", "Amount": "1.00"}}]}}"#,
        "order.ShippingAddress",
        "a merchant-fulfilled order needs one",
    ),
    (Kind::Etsy, r#"{"count": 1}"#, "the payload", "neither a shop receipt"),
    (Kind::Etsy, r#"{"receipt_id": 1, "status": "shipped-ish"}"#, "status", "not an Etsy receipt status"),
    (
        Kind::Etsy,
        r#"{"results": [{"receipt_id": 1, "status": "paid", "transactions": [{"sku": "A", "quantity": 1,
            "price": {"amount": 19999, "divisor": 1000, "currency_code": "USD"}}]}]}"#,
        "results[0].transactions[0].price",
        "not a whole number of minor units",
    ),
    (
        Kind::Etsy,
        r#"{"receipt_id": 1, "status": "paid", "grandtotal": {"amount": 1, "divisor": 1, "currency_code": "USD"},
            "transactions": [{"sku": "A", "quantity": 1,
            "price": {"amount": 500, "divisor": 100, "currency_code": "CAD"}}]}"#,
        "transactions[0].price.currency_code",
        "CAD is not the receipt's currency USD",
    ),
    (
        Kind::Etsy,
        r#"{"receipt_id": 1, "status": "paid", "transactions": [{"sku": "A", "quantity": 1,
            "price": {"amount": 500, "divisor": 100, "currency_code": "USD"}}],
            "discount_amt": {"amount": 600, "divisor": 100, "currency_code": "USD"}}"#,
        "discount_amt",
        "more than the items' total",
    ),
    (
        Kind::Etsy,
        r#"{"receipt_id": 1, "status": "paid", "transactions": [{"sku": "PDF", "quantity": 1, "is_digital": true,
            "price": {"amount": 500, "divisor": 100, "currency_code": "USD"}}]}"#,
        "transactions",
        "no physical item",
    ),
    (
        Kind::Ebay,
        r#"{"orderId": "1", "orderPaymentStatus": "MAYBE"}"#,
        "orderPaymentStatus",
        "not an eBay payment status",
    ),
    (
        Kind::Ebay,
        r#"{"orderId": "1", "orderPaymentStatus": "PAID", "orderFulfillmentStatus": "NOT_STARTED",
            "pricingSummary": {"total": {"value": "1.00", "currency": "USD"}},
            "lineItems": [{"sku": "A", "quantity": 1, "lineItemCost": {"value": "19.999", "currency": "USD"}}]}"#,
        "lineItems[0].lineItemCost.value",
        "more than 2 decimal places",
    ),
    (
        Kind::Ebay,
        r#"{"orderId": "1", "orderPaymentStatus": "PAID", "orderFulfillmentStatus": "NOT_STARTED",
            "pricingSummary": {"total": {"value": "1.00", "currency": "USD"}},
            "lineItems": [{"sku": "A", "quantity": 1, "lineItemCost": {"value": "1.00", "currency": "USD"},
            "discountedLineItemCost": {"value": "2.00", "currency": "USD"}}]}"#,
        "lineItems[0].discountedLineItemCost",
        "more than lineItemCost",
    ),
    (
        Kind::Ebay,
        r#"{"orderId": "1", "orderPaymentStatus": "PAID", "orderFulfillmentStatus": "NOT_STARTED",
            "pricingSummary": {"total": {"value": "1.00", "currency": "USD"}},
            "lineItems": [{"sku": "A", "quantity": 1, "lineItemCost": {"value": "1.00", "currency": "GBP"}}]}"#,
        "lineItems[0].lineItemCost.currency",
        "GBP is not the order's currency USD",
    ),
    (
        Kind::Ebay,
        r#"{"orders": [{"orderId": "1", "orderPaymentStatus": "PAID", "orderFulfillmentStatus": "NOT_STARTED",
            "pricingSummary": {"total": {"value": "1.00", "currency": "USD"}},
            "lineItems": [{"sku": "A", "quantity": 1, "lineItemCost": {"value": "1.00", "currency": "USD"}}],
            "fulfillmentStartInstructions": [{"fulfillmentInstructionsType": "SHIP_TO",
            "shippingStep": {"shippingServiceCode": "USPSPriority"}}]}]}"#,
        "orders[0].fulfillmentStartInstructions[0].shippingStep.shipTo",
        "a shipped order needs an address",
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
fn the_customers_email_comes_along_when_the_platform_gives_one_the_core_accepts() {
    let email = |kind: Kind, path: &str| -> Vec<Option<String>> {
        parse(kind, &fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}")).into_iter().map(|o| o.email).collect()
    };
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(email(Kind::Shopify, "shopify/orders_create_discounted.json"), [some("jon@example.com")]);
    assert_eq!(email(Kind::Woocommerce, "woocommerce/order_created_processing.json"), [some("john.doe@example.com")]);
    assert_eq!(email(Kind::Woocommerce, "woocommerce/order_updated_on_hold_eur.json"), [None], "no billing.email");
    assert_eq!(email(Kind::Amazon, "amazon/mfn_unshipped_promotion.json"), [some("5k2q0vxy8n@marketplace.amazon.com")]);
    assert_eq!(email(Kind::Ebay, "ebay/order_discounted_multi.json"), [some("abc123@members.ebay.com")]);
    // Etsy's null buyer_email (and the blank payment_email beside it) is no address; a padded one is trimmed.
    assert_eq!(email(Kind::Etsy, "etsy/receipt_paid_coupon.json"), [None]);
    assert_eq!(email(Kind::Etsy, "etsy/receipts_page.json")[0], some("reader@example.co.uk"));
    assert_eq!(email(Kind::Pos, "pos/counter_sale.json"), [some("ana@example.com")]);
    assert_eq!(email(Kind::Pos, "pos/pickup_unpaid.json"), [None]);
    // A malformed address costs the mail, not the order.
    assert_eq!(email(Kind::Wholesale, "wholesale/po.csv"), [some("orders@cornershop.example"), None]);
    // The address reaches the core's intake, which keeps it for the notifications.
    let o = one(Kind::Shopify, "shopify/orders_create_discounted.json");
    let order = NewOrder::parse(o.to_draft("shopify")).expect("valid");
    assert_eq!(order.email.map(String::from).as_deref(), Some("jon@example.com"));
    let payload = br#"{"id": 1, "currency": "USD", "email": 42, "line_items": [{"sku": "A", "quantity": 1,
        "price": "1.00"}], "shipping_address": {"name": "A", "address1": "1 St", "city": "X", "province_code": "NV",
        "zip": "89501", "country_code": "US"}}"#;
    let parsed = parse(Kind::Shopify, payload).expect("an e-mail of the wrong type is no address, not a refusal");
    assert_eq!(parsed[0].email, None);
}

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
    fn no_parser_panics_on_mutated_fixtures(pick in 0usize..10, at in any::<prop::sample::Index>(), junk in ".{0,12}") {
        let (kind, path) = [
            (Kind::Shopify, "shopify/orders_create_discounted.json"),
            (Kind::Woocommerce, "woocommerce/order_created_processing.json"),
            (Kind::Pos, "pos/counter_sale.json"),
            (Kind::Wholesale, "wholesale/po.csv"),
            (Kind::Amazon, "amazon/mfn_unshipped_promotion.json"),
            (Kind::Amazon, "amazon/orders_list_prime_jp_and_canceled.json"),
            (Kind::Etsy, "etsy/receipt_paid_coupon.json"),
            (Kind::Etsy, "etsy/receipts_page.json"),
            (Kind::Ebay, "ebay/order_discounted_multi.json"),
            (Kind::Ebay, "ebay/orders_page.json"),
        ][pick];
        let mut text = String::from_utf8(fixture(path)).expect("utf-8");
        let cut = at.index(text.len());
        let cut = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(cut, &junk);
        let _ = parse(kind, text.as_bytes());
    }
}
