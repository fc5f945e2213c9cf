//! Money as integer minor units with an ISO 4217 currency. No floats, ever.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An active ISO 4217 alphabetic code (see `ISO_4217`), e.g. `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Why money arithmetic or parsing was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code (got {0:?})")]
    BadCurrency(String),
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount overflows")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
}

/// ISO 4217 list one: every active currency and fund code that has a minor
/// unit, with its exponent (digits after the decimal point), sorted by code.
/// Precious metals (XAU, XAG, XPD, XPT), bond units, XDR, XSU, XUA, the test
/// code XTS and "no currency" XXX have no minor unit and are not money a shop
/// takes. Codes being replaced (ANG by XCG, SLL by SLE, ZWL by ZWG) stay
/// while both circulate. Update it from the maintenance agency's amendments.
#[rustfmt::skip]
const ISO_4217: [([u8; 3], u8); 168] = [
    (*b"AED", 2), (*b"AFN", 2), (*b"ALL", 2), (*b"AMD", 2), (*b"ANG", 2), (*b"AOA", 2), (*b"ARS", 2), (*b"AUD", 2),
    (*b"AWG", 2), (*b"AZN", 2), (*b"BAM", 2), (*b"BBD", 2), (*b"BDT", 2), (*b"BGN", 2), (*b"BHD", 3), (*b"BIF", 0),
    (*b"BMD", 2), (*b"BND", 2), (*b"BOB", 2), (*b"BOV", 2), (*b"BRL", 2), (*b"BSD", 2), (*b"BTN", 2), (*b"BWP", 2),
    (*b"BYN", 2), (*b"BZD", 2), (*b"CAD", 2), (*b"CDF", 2), (*b"CHE", 2), (*b"CHF", 2), (*b"CHW", 2), (*b"CLF", 4),
    (*b"CLP", 0), (*b"CNY", 2), (*b"COP", 2), (*b"COU", 2), (*b"CRC", 2), (*b"CUP", 2), (*b"CVE", 2), (*b"CZK", 2),
    (*b"DJF", 0), (*b"DKK", 2), (*b"DOP", 2), (*b"DZD", 2), (*b"EGP", 2), (*b"ERN", 2), (*b"ETB", 2), (*b"EUR", 2),
    (*b"FJD", 2), (*b"FKP", 2), (*b"GBP", 2), (*b"GEL", 2), (*b"GHS", 2), (*b"GIP", 2), (*b"GMD", 2), (*b"GNF", 0),
    (*b"GTQ", 2), (*b"GYD", 2), (*b"HKD", 2), (*b"HNL", 2), (*b"HTG", 2), (*b"HUF", 2), (*b"IDR", 2), (*b"ILS", 2),
    (*b"INR", 2), (*b"IQD", 3), (*b"IRR", 2), (*b"ISK", 0), (*b"JMD", 2), (*b"JOD", 3), (*b"JPY", 0), (*b"KES", 2),
    (*b"KGS", 2), (*b"KHR", 2), (*b"KMF", 0), (*b"KPW", 2), (*b"KRW", 0), (*b"KWD", 3), (*b"KYD", 2), (*b"KZT", 2),
    (*b"LAK", 2), (*b"LBP", 2), (*b"LKR", 2), (*b"LRD", 2), (*b"LSL", 2), (*b"LYD", 3), (*b"MAD", 2), (*b"MDL", 2),
    (*b"MGA", 2), (*b"MKD", 2), (*b"MMK", 2), (*b"MNT", 2), (*b"MOP", 2), (*b"MRU", 2), (*b"MUR", 2), (*b"MVR", 2),
    (*b"MWK", 2), (*b"MXN", 2), (*b"MXV", 2), (*b"MYR", 2), (*b"MZN", 2), (*b"NAD", 2), (*b"NGN", 2), (*b"NIO", 2),
    (*b"NOK", 2), (*b"NPR", 2), (*b"NZD", 2), (*b"OMR", 3), (*b"PAB", 2), (*b"PEN", 2), (*b"PGK", 2), (*b"PHP", 2),
    (*b"PKR", 2), (*b"PLN", 2), (*b"PYG", 0), (*b"QAR", 2), (*b"RON", 2), (*b"RSD", 2), (*b"RUB", 2), (*b"RWF", 0),
    (*b"SAR", 2), (*b"SBD", 2), (*b"SCR", 2), (*b"SDG", 2), (*b"SEK", 2), (*b"SGD", 2), (*b"SHP", 2), (*b"SLE", 2),
    (*b"SLL", 2), (*b"SOS", 2), (*b"SRD", 2), (*b"SSP", 2), (*b"STN", 2), (*b"SVC", 2), (*b"SYP", 2), (*b"SZL", 2),
    (*b"THB", 2), (*b"TJS", 2), (*b"TMT", 2), (*b"TND", 3), (*b"TOP", 2), (*b"TRY", 2), (*b"TTD", 2), (*b"TWD", 2),
    (*b"TZS", 2), (*b"UAH", 2), (*b"UGX", 0), (*b"USD", 2), (*b"USN", 2), (*b"UYI", 0), (*b"UYU", 2), (*b"UYW", 4),
    (*b"UZS", 2), (*b"VED", 2), (*b"VES", 2), (*b"VND", 0), (*b"VUV", 0), (*b"WST", 2), (*b"XAF", 0), (*b"XCD", 2),
    (*b"XCG", 2), (*b"XOF", 0), (*b"XPF", 0), (*b"YER", 2), (*b"ZAR", 2), (*b"ZMW", 2), (*b"ZWG", 2), (*b"ZWL", 2),
];

impl Currency {
    /// ISO 4217's "no currency" (XXX): what an amount carries when there is
    /// none (e.g. a routing input without an order value). Never parsed from
    /// input.
    pub const NONE: Currency = Currency(*b"XXX");

    /// Parses an active ISO 4217 code (upper case, e.g. `USD`).
    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        let b = raw.as_bytes();
        let code = <[u8; 3]>::try_from(b).map_err(|_| MoneyError::BadCurrency(raw.to_owned()))?;
        match ISO_4217.binary_search_by(|(c, _)| c.cmp(&code)) {
            Ok(_) => Ok(Self(code)),
            Err(_) => Err(MoneyError::BadCurrency(raw.to_owned())),
        }
    }
    pub fn as_str(&self) -> &str {
        // Construction guarantees ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
    /// Number of minor-unit digits (the ISO 4217 exponent): 2 for USD, 0 for
    /// JPY, 3 for BHD, 4 for CLF.
    pub fn exponent(&self) -> u32 {
        // Construction guarantees the code is in the table.
        ISO_4217.binary_search_by(|(c, _)| c.cmp(&self.0)).map_or(2, |i| u32::from(ISO_4217[i].1))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// An amount in minor units (cents for USD) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }
    pub fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }
    pub fn minor(&self) -> i64 {
        self.minor
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency });
        }
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }
    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }
    /// Splits the amount into `parts` shares that add up exactly; the
    /// remainder goes one minor unit at a time to the first shares.
    pub fn split_evenly(self, parts: u32) -> Vec<Money> {
        if parts == 0 {
            return Vec::new();
        }
        let n = i64::from(parts);
        let base = self.minor.div_euclid(n);
        let rem = self.minor.rem_euclid(n);
        (0..n).map(|i| Money { minor: base + i64::from(i < rem), currency: self.currency }).collect()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let div = 10u64.pow(exp);
        write!(f, "{sign}{}.{:0width$} {}", abs / div, abs % div, self.currency, width = exp as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").expect("valid")
    }

    #[test]
    fn currencies_are_three_upper_letters() {
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert_eq!(usd().as_str(), "USD");
    }

    /// Regression (issue 7): any three capital letters passed as a currency.
    #[test]
    fn three_capital_letters_that_are_not_an_iso_4217_currency_are_refused() {
        for raw in ["ABC", "XYZ", "QQQ", "XTS", "XXX", "XAU", "HRK", "DEM"] {
            assert_eq!(Currency::parse(raw), Err(MoneyError::BadCurrency(raw.into())), "{raw}");
        }
        for raw in ["USD", "EUR", "GBP", "JPY", "CHF", "AED", "ZWG", "XCG", "CLF", "UYW"] {
            assert_eq!(Currency::parse(raw).map(|c| c.to_string()), Ok(raw.to_owned()));
        }
    }

    #[test]
    fn the_iso_table_is_sorted_and_each_code_is_three_capitals() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no duplicates");
        assert!(ISO_4217.iter().all(|(c, e)| c.iter().all(u8::is_ascii_uppercase) && *e <= 4));
    }

    #[test]
    fn amounts_are_shown_with_the_iso_exponent() {
        let shown = |minor, code| Money::new(minor, Currency::parse(code).expect("valid")).to_string();
        assert_eq!(shown(1234, "JPY"), "1234 JPY");
        assert_eq!(shown(1234, "BHD"), "1.234 BHD");
        assert_eq!(shown(12345, "CLF"), "1.2345 CLF");
        assert_eq!(shown(1234, "HUF"), "12.34 HUF");
    }

    #[test]
    fn mixing_currencies_is_a_typed_error() {
        let eur = Currency::parse("EUR").expect("valid");
        let err = Money::new(100, usd()).checked_add(Money::new(1, eur));
        assert!(matches!(err, Err(MoneyError::CurrencyMismatch { .. })));
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(Money::new(i64::MAX, usd()).checked_add(Money::new(1, usd())), Err(MoneyError::Overflow));
        assert_eq!(Money::new(i64::MAX, usd()).checked_mul(2), Err(MoneyError::Overflow));
    }

    #[test]
    fn split_keeps_every_cent() {
        let shares = Money::new(1000, usd()).split_evenly(3);
        assert_eq!(shares.iter().map(Money::minor).collect::<Vec<_>>(), vec![334, 333, 333]);
        assert_eq!(Money::new(4500, usd()).to_string(), "45.00 USD");
        assert_eq!(Money::new(-5, usd()).to_string(), "-0.05 USD");
    }
}
