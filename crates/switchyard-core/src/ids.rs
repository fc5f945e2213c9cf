//! Identifier newtypes, parsed once at the boundary ("parse, don't validate").

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identifier or quantity was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is longer than {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} may contain only letters, digits and . _ - : / # (found {found:?})")]
    BadChar { what: &'static str, found: char },
    #[error("quantity must be at least 1")]
    ZeroQuantity,
    #[error("quantity {0} is too large (at most {max})", max = Quantity::MAX)]
    QuantityTooLarge(i64),
    #[error("quantity must not be negative (got {0})")]
    NegativeQuantity(i64),
}

fn check_code(what: &'static str, raw: &str, max: usize) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty { what });
    }
    if raw.chars().count() > max {
        return Err(IdError::TooLong { what, max });
    }
    if let Some(found) =
        raw.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '#')))
    {
        return Err(IdError::BadChar { what, found });
    }
    Ok(())
}

/// How a code's spelling is settled once it passed [`check_code`].
fn as_given(raw: &str) -> String {
    raw.to_owned()
}

/// Channel names are case-insensitive: `Shopify` and `shopify` are one
/// channel, stored in lower case.
fn lower_case(raw: &str) -> String {
    raw.to_ascii_lowercase()
}

macro_rules! code_newtype {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr, $canonical:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses the raw text: trimmed, checked, in its canonical spelling.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                let raw = raw.trim();
                check_code($what, raw, $max)?;
                Ok(Self($canonical(raw)))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

code_newtype!(
    /// A stock-keeping unit code, e.g. `TEE-RED-M`. Case-sensitive, as the
    /// shop's catalogue spells it.
    Sku, "sku", 64, as_given
);
code_newtype!(
    /// A stock location's short code, e.g. `FLAGSHIP`. Case-sensitive.
    LocationCode, "location code", 32, as_given
);
code_newtype!(
    /// A sales channel's name, e.g. `shopify`; case-insensitive, kept in
    /// lower case (`Shopify` parses as `shopify`).
    ChannelName, "channel", 32, lower_case
);
code_newtype!(
    /// The order id the channel gave the order; unique per channel.
    /// Case-sensitive: channels' ids are opaque.
    ExternalOrderId, "external_id", 128, as_given
);

/// A strictly positive count of units on an order line or shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    /// The largest quantity one line may carry. Keeps every product of
    /// quantities (bundle components × units) far inside `i64`.
    pub const MAX: u32 = 1_000_000;

    pub fn new(raw: i64) -> Result<Self, IdError> {
        match raw {
            i64::MIN..=-1 => Err(IdError::NegativeQuantity(raw)),
            0 => Err(IdError::ZeroQuantity),
            n if n > i64::from(Self::MAX) => Err(IdError::QuantityTooLarge(n)),
            n => Ok(Self(n as u32)),
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
    pub fn as_i64(self) -> i64 {
        i64::from(self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = i64::deserialize(d)?;
        Self::new(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked() {
        assert!(Sku::parse("TEE-RED-M").is_ok());
        assert_eq!(Sku::parse(" A1 ").map(|s| s.to_string()), Ok("A1".into()));
        assert_eq!(Sku::parse(""), Err(IdError::Empty { what: "sku" }));
        assert!(matches!(Sku::parse("a b"), Err(IdError::BadChar { found: ' ', .. })));
        assert!(matches!(LocationCode::parse(&"x".repeat(33)), Err(IdError::TooLong { .. })));
    }

    /// Regression (issue 7): `"Shopify"` and `"shopify"` were two channels.
    #[test]
    fn channel_names_are_case_insensitive_and_kept_in_lower_case() {
        assert_eq!(ChannelName::parse(" Shopify ").map(|c| c.to_string()), Ok("shopify".into()));
        assert_eq!(ChannelName::parse("SHOPIFY"), ChannelName::parse("shopify"));
        assert_eq!(Sku::parse("tee-m").map(|s| s.to_string()), Ok("tee-m".into()), "SKUs keep their case");
        assert_ne!(LocationCode::parse("wh"), LocationCode::parse("WH"), "location codes keep their case");
    }

    #[test]
    fn quantities_are_positive_and_bounded() {
        assert_eq!(Quantity::new(0), Err(IdError::ZeroQuantity));
        assert_eq!(Quantity::new(-3), Err(IdError::NegativeQuantity(-3)));
        assert!(Quantity::new(1_000_001).is_err());
        assert_eq!(Quantity::new(7).map(Quantity::get), Ok(7));
    }
}
