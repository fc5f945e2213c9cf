//! Money as integer minor units with an ISO 4217 currency. No floats, ever.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 alphabetic code: three upper-case ASCII letters.
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

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        let b = raw.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Self([b[0], b[1], b[2]]))
        } else {
            Err(MoneyError::BadCurrency(raw.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        // Construction guarantees ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
    /// Number of minor-unit digits for display (ISO 4217 exponent).
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "XAF" | "XOF" | "HUF" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
            _ => 2,
        }
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
