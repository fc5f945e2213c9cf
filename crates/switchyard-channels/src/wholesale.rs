//! Wholesale purchase orders, uploaded as CSV: one row per line; the rows
//! of one purchase order share `po_number` (and its currency and address).
//!
//! Header (any order; `buyer` and `service_level` optional): `po_number,sku,quantity,unit_price,currency,`
//! `ship_name,ship_line1,ship_city,ship_region,ship_postal_code,ship_country`
//!
//! `unit_price` is a decimal amount (`12.50`) in `currency`. Wholesale
//! orders are on account: payment `paid`, status `accepted`. Errors name
//! the CSV line (the header is line 1).
//!
//! An optional `email` column gives the buyer's e-mail (the first row of a purchase order sets it). An address
//! the core would refuse is left out (the order is kept, without mail).

use std::collections::BTreeMap;

use switchyard_core::{Currency, OrderStatus, ShipTo};

use crate::{Adapter, ChannelLine, ChannelOrder, FulfilledBy, Kind, ParseError};

pub struct Wholesale;

const REQUIRED: [&str; 11] = [
    "po_number",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "ship_name",
    "ship_line1",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
];

fn err(at: impl Into<String>, problem: impl Into<String>) -> ParseError {
    ParseError::new(Kind::Wholesale, at, problem)
}

impl Adapter for Wholesale {
    fn kind(&self) -> Kind {
        Kind::Wholesale
    }

    fn parse(&self, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(payload);
        let header = reader.headers().map_err(|e| err("line 1", format!("not a CSV header: {e}")))?.clone();
        let column = |name: &str| header.iter().position(|h| h == name);
        for name in REQUIRED {
            if column(name).is_none() {
                return Err(err("line 1", format!("the header has no {name} column")));
            }
        }
        let mut orders: BTreeMap<String, (usize, ChannelOrder)> = BTreeMap::new();
        for (i, record) in reader.records().enumerate() {
            let line_no = i + 2;
            let at = format!("line {line_no}");
            let record = record.map_err(|e| err(&at, format!("unreadable row: {e}")))?;
            let get = |name: &str| column(name).and_then(|c| record.get(c)).unwrap_or("").to_owned();
            let po = get("po_number");
            if po.is_empty() {
                return Err(err(&at, "po_number is empty"));
            }
            let currency = Currency::parse(&get("currency")).map_err(|e| err(&at, e.to_string()))?;
            let quantity: i64 = get("quantity")
                .parse()
                .map_err(|_| err(&at, format!("quantity {:?} is not a whole number", get("quantity"))))?;
            if quantity < 1 {
                return Err(err(&at, format!("quantity must be at least 1 (got {quantity})")));
            }
            let unit_price = crate::decimal_minor(&get("unit_price"), currency.exponent())
                .map_err(|e| err(&at, format!("unit_price {e}")))?;
            let ship_to = ShipTo {
                name: get("ship_name"),
                line1: get("ship_line1"),
                city: get("ship_city"),
                region: get("ship_region"),
                postal_code: get("ship_postal_code"),
                country: get("ship_country"),
                lat: None,
                lon: None,
            };
            let service_level = Some(get("service_level")).filter(|s| !s.is_empty());
            let line = ChannelLine { sku: get("sku"), quantity, unit_price, discount: 0 };
            match orders.get_mut(&po) {
                Some((_, o)) => {
                    if o.currency != currency.as_str() || o.ship_to != ship_to || o.service_level != service_level {
                        return Err(err(&at, format!("purchase order {po} changes its currency, address or service")));
                    }
                    o.lines.push(line);
                }
                None => {
                    let order = ChannelOrder {
                        channel: "wholesale".into(),
                        external_id: po.clone(),
                        currency: currency.as_str().to_owned(),
                        lines: vec![line],
                        ship_to,
                        service_level,
                        pickup_location: None,
                        payment: "paid".into(),
                        status: OrderStatus::Accepted,
                        fulfilled_by: FulfilledBy::Merchant,
                        shipping: 0,
                        email: switchyard_core::EmailAddress::parse(&get("email")).ok().map(String::from),
                    };
                    orders.insert(po, (line_no, order));
                }
            }
        }
        if orders.is_empty() {
            return Err(err("line 2", "the file has no purchase-order lines"));
        }
        // In the order the purchase orders first appear.
        let mut list: Vec<(usize, ChannelOrder)> = orders.into_values().collect();
        list.sort_by_key(|(line, _)| *line);
        Ok(list.into_iter().map(|(_, o)| o).collect())
    }
}
