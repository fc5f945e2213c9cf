//! Money as the platforms write it, to integer minor units, exactly: never
//! through a float.

/// `"19.99"` in a currency with `exponent` decimals → 1999. Refuses
/// signs, exponents, thousands separators, more decimals than the currency
/// has (unless they are zeros) and amounts that do not fit.
pub fn decimal_minor(raw: &str, exponent: u32) -> Result<i64, String> {
    let s = raw.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty()
        || !digits(whole)
        || !digits(frac)
        || (whole.is_empty() && s.starts_with('.'))
    {
        return Err(format!("{raw:?} is not a decimal amount like 19.99"));
    }
    let exp = exponent as usize;
    let (kept, rest) = if frac.len() > exp { frac.split_at(exp) } else { (frac, "") };
    if rest.bytes().any(|b| b != b'0') {
        return Err(format!("{raw:?} has more than {exponent} decimal places"));
    }
    let text = format!("{whole}{kept:0<exp$}");
    let text = text.trim_start_matches('0');
    if text.is_empty() {
        return Ok(0);
    }
    text.parse::<i64>().map_err(|_| format!("{raw:?} is too large"))
}

/// `amount / divisor` (Etsy's `{amount: 1999, divisor: 100}`) in a currency
/// with `exponent` decimals → minor units; refused unless exact.
pub fn scaled_minor(amount: i64, divisor: i64, exponent: u32) -> Result<i64, String> {
    if divisor <= 0 {
        return Err(format!("divisor {divisor} must be positive"));
    }
    if amount < 0 {
        return Err(format!("amount {amount} must not be negative"));
    }
    let scale = 10i64.checked_pow(exponent).ok_or("currency exponent too large")?;
    let scaled = i128::from(amount) * i128::from(scale);
    if scaled % i128::from(divisor) != 0 {
        return Err(format!("{amount}/{divisor} is not a whole number of minor units"));
    }
    i64::try_from(scaled / i128::from(divisor)).map_err(|_| format!("{amount}/{divisor} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_convert_exactly() {
        assert_eq!(decimal_minor("19.99", 2), Ok(1999));
        assert_eq!(decimal_minor("19.9", 2), Ok(1990));
        assert_eq!(decimal_minor("20", 2), Ok(2000));
        assert_eq!(decimal_minor("0.10", 2), Ok(10));
        assert_eq!(decimal_minor("0.00", 2), Ok(0));
        assert_eq!(decimal_minor("1500", 0), Ok(1500));
        assert_eq!(decimal_minor("1500.00", 0), Ok(1500));
        assert_eq!(decimal_minor("1.234", 3), Ok(1234));
        assert_eq!(decimal_minor("19.990", 2), Ok(1999));
        // 0.1 + 0.2 style float drift cannot happen: 4.35 is 435 exactly.
        assert_eq!(decimal_minor("4.35", 2), Ok(435));
        for bad in
            ["", ".", "-1.00", "+1", "1e3", "1,000.00", "19.999", "abc", "1.2.3", " . ", "9999999999999999999.99"]
        {
            assert!(decimal_minor(bad, 2).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scaled_amounts_convert_exactly() {
        assert_eq!(scaled_minor(1999, 100, 2), Ok(1999));
        assert_eq!(scaled_minor(19990, 1000, 2), Ok(1999));
        assert_eq!(scaled_minor(1500, 1, 0), Ok(1500));
        assert!(scaled_minor(19999, 1000, 2).is_err());
        assert!(scaled_minor(1, 0, 2).is_err());
        assert!(scaled_minor(-1, 100, 2).is_err());
    }
}
