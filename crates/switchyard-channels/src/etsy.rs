//! Etsy: the Open API v3 shop receipt (`getShopReceipt`), or the
//! `{"count", "results": [...]}` page `getShopReceipts` answers.
//!
//! | Etsy `status` | canonical |
//! |---|---|
//! | `open` with `is_paid` | `accepted` (`shipped` when `is_shipped`) |
//! | `open` without `is_paid`, `payment processing` | `pending_payment` (payment `pending`) |
//! | `paid`, `partially refunded` | `accepted`, or `shipped` when `is_shipped` |
//! | `completed` | `completed` |
//! | `canceled`, `fully refunded` | `cancelled` |
//!
//! The status is read without regard to case (Etsy has written both
//! `Paid` and `paid`). Money is `{amount, divisor, currency_code}` —
//! `amount ÷ divisor` — converted exactly (`scaled_minor`), every amount in
//! `grandtotal`'s currency. A transaction's `price` is per unit. The
//! receipt's `discount_amt` (coupons; free-shipping coupons are not in it) is
//! shared over the lines in proportion to their totals, exactly (leftover
//! minor units to the largest remainders). Shipping is `total_shipping_cost`;
//! a shipping upgrade or method named express, priority, next day, ... is
//! `expedited`.
//! Digital transactions (`is_digital`) hold no stock and are left out; a
//! transaction without `sku` is `listing:<listing_id>`.
//!
//! The customer's e-mail is `buyer_email` (Etsy shares it only with some apps; null otherwise). An address the
//! core would refuse is left out (the order is kept, without mail).

use switchyard_core::{Currency, OrderStatus, ShipTo};

use crate::json::{self, At};
use crate::{Adapter, ChannelLine, ChannelOrder, FulfilledBy, Kind, ParseError};

pub struct Etsy;

impl Adapter for Etsy {
    fn kind(&self) -> Kind {
        Kind::Etsy
    }

    fn parse(&self, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError> {
        let v = json::parse(Kind::Etsy, payload)?;
        let root = At::root(Kind::Etsy, &v);
        root.object()?;
        if !root.get("results").is_null() {
            return root.get("results").array()?.iter().map(receipt).collect();
        }
        if root.get("receipt_id").is_null() {
            return Err(root.err("is neither a shop receipt (no receipt_id) nor a {\"count\", \"results\"} page"));
        }
        Ok(vec![receipt(&root)?])
    }
}

fn receipt(r: &At) -> Result<ChannelOrder, ParseError> {
    r.object()?;
    let external_id = r.get("receipt_id").id()?;
    let (paid, shipped) = (r.get("is_paid").flag()?, r.get("is_shipped").flag()?);
    let shipped_or = |s| if shipped { OrderStatus::Shipped } else { s };
    let status = match r.get("status").str()?.to_ascii_lowercase().as_str() {
        "open" if paid => shipped_or(OrderStatus::Accepted),
        "open" | "payment processing" => OrderStatus::PendingPayment,
        "paid" | "partially refunded" => shipped_or(OrderStatus::Accepted),
        "completed" => OrderStatus::Completed,
        "canceled" | "fully refunded" => OrderStatus::Cancelled,
        other => return Err(r.get("status").err(format!("{other:?} is not an Etsy receipt status"))),
    };
    let transactions = r.get("transactions").array()?;
    let currency = match r.get("grandtotal").is_null() {
        false => r.get("grandtotal").get("currency_code").currency()?,
        true => match transactions.first() {
            Some(t) => t.get("price").get("currency_code").currency()?,
            None => return Err(r.get("grandtotal").err("is missing, and there is no transaction: no currency")),
        },
    };
    let mut lines = Vec::new();
    let mut words = String::new();
    for t in &transactions {
        t.object()?;
        if t.get("is_digital").flag()? {
            continue;
        }
        let sku = match t.get("sku").text()?.trim() {
            "" => format!("listing:{}", t.get("listing_id").id()?),
            sku => sku.to_owned(),
        };
        let quantity = t.get("quantity").int()?;
        if quantity < 1 {
            return Err(t.get("quantity").err(format!("must be at least 1 (got {quantity})")));
        }
        let unit_price = money(&t.get("price"), currency)?;
        for key in ["shipping_upgrade", "shipping_method"] {
            words.push_str(t.get(key).text()?);
            words.push(' ');
        }
        lines.push(ChannelLine { sku, quantity, unit_price, discount: 0 });
    }
    if lines.is_empty() {
        return Err(r.get("transactions").err("has no physical item (digital items hold no stock)"));
    }
    let discount = opt_money(&r.get("discount_amt"), currency)?;
    share_discount(&mut lines, discount).map_err(|problem| r.get("discount_amt").err(problem))?;
    Ok(ChannelOrder {
        channel: "etsy".into(),
        external_id,
        currency: currency.as_str().to_owned(),
        lines,
        ship_to: ship_to(r)?,
        service_level: crate::service_level_from_words(&words).map(str::to_owned),
        pickup_location: None,
        payment: if status == OrderStatus::PendingPayment { "pending" } else { "paid" }.into(),
        status,
        fulfilled_by: FulfilledBy::Merchant,
        shipping: opt_money(&r.get("total_shipping_cost"), currency)?,
        email: r.get("buyer_email").email(),
    })
}

/// `{amount, divisor, currency_code}` in the order's currency, in minor
/// units.
fn money(at: &At, currency: Currency) -> Result<i64, ParseError> {
    at.object()?;
    let code = at.get("currency_code").str()?;
    if code != currency.as_str() {
        return Err(at.get("currency_code").err(format!("{code} is not the receipt's currency {currency}")));
    }
    let (amount, divisor) = (at.get("amount").int()?, at.get("divisor").int()?);
    crate::scaled_minor(amount, divisor, currency.exponent()).map_err(|e| at.err(e))
}

fn opt_money(at: &At, currency: Currency) -> Result<i64, ParseError> {
    if at.is_null() {
        Ok(0)
    } else {
        money(at, currency)
    }
}

/// Shares a receipt-wide discount over the lines in proportion to their
/// totals, exactly: each line's share rounded down, then the leftover minor
/// units one each to the lines with the largest remainders (the first line
/// on a tie).
fn share_discount(lines: &mut [ChannelLine], discount: i64) -> Result<(), String> {
    if discount == 0 {
        return Ok(());
    }
    // Totals kept within i64, so the products below fit in an i128.
    let mut totals = Vec::with_capacity(lines.len());
    let mut sum = 0i64;
    for l in lines.iter() {
        let total = l.unit_price.checked_mul(l.quantity).ok_or("cannot be shared: a line's total is too large")?;
        sum = sum.checked_add(total).ok_or("cannot be shared: the items' total is too large")?;
        totals.push(i128::from(total));
    }
    let (whole, sum) = (i128::from(discount), i128::from(sum));
    if whole > sum {
        return Err(format!("is more than the items' total ({discount} > {sum} minor units)"));
    }
    let mut shares: Vec<i128> = totals.iter().map(|t| whole * t / sum).collect();
    let left = whole - shares.iter().sum::<i128>();
    let mut by_remainder: Vec<usize> = (0..lines.len()).collect();
    by_remainder.sort_by_key(|&i| (std::cmp::Reverse(whole * totals[i] % sum), i));
    for &i in by_remainder.iter().take(usize::try_from(left).unwrap_or(0)) {
        shares[i] += 1;
    }
    for (line, share) in lines.iter_mut().zip(shares) {
        // A share is at most the discount, which is an i64.
        line.discount = i64::try_from(share).map_err(|_| "is too large".to_owned())?;
    }
    Ok(())
}

fn ship_to(r: &At) -> Result<ShipTo, ParseError> {
    let text = |k: &str| -> Result<String, ParseError> { Ok(r.get(k).text()?.trim().to_owned()) };
    let (first, second) = (text("first_line")?, text("second_line")?);
    Ok(ShipTo {
        name: text("name")?,
        line1: if second.is_empty() { first } else { format!("{first}, {second}") },
        city: text("city")?,
        region: text("state")?,
        postal_code: text("zip")?,
        country: text("country_iso")?,
        lat: None,
        lon: None,
    })
}
