//! Stock positions and the only legal ways to change them.
//!
//! Every change is expressed as a [`StockDelta`] (a ledger entry's numbers):
//! the store applies the delta to the position row and appends it to the
//! ledger in the same transaction, so the ledger always sums to the positions.

use serde::{Deserialize, Serialize};

/// The kinds of ledger entries. Stored as stable snake_case codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    Receipt,
    CycleCount,
    Adjustment,
    Reserve,
    Release,
    Ship,
    ReturnRestock,
    SafetyStock,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::CycleCount => "cycle_count",
            Self::Adjustment => "adjustment",
            Self::Reserve => "reserve",
            Self::Release => "release",
            Self::Ship => "ship",
            Self::ReturnRestock => "return_restock",
            Self::SafetyStock => "safety_stock",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "receipt" => Self::Receipt,
            "cycle_count" => Self::CycleCount,
            "adjustment" => Self::Adjustment,
            "reserve" => Self::Reserve,
            "release" => Self::Release,
            "ship" => Self::Ship,
            "return_restock" => Self::ReturnRestock,
            "safety_stock" => Self::SafetyStock,
            _ => return None,
        })
    }
}

/// The stock of one SKU at one location.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub on_hand: i64,
    pub reserved: i64,
    pub safety_stock: i64,
}

/// A change to one position, as recorded in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockDelta {
    pub kind: LedgerKind,
    pub on_hand: i64,
    pub reserved: i64,
    pub safety_stock: i64,
}

/// Why a stock change was refused. Nothing is changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("quantity must be positive (got {0})")]
    NonPositive(i64),
    #[error("on_hand must not be negative (got {0})")]
    NegativeOnHand(i64),
    #[error("safety_stock must not be negative (got {0})")]
    NegativeSafetyStock(i64),
    #[error("only {available} available, {wanted} wanted")]
    Insufficient { available: i64, wanted: i64 },
    #[error("on_hand would become {on_hand}, below the {reserved} units reserved for open orders")]
    BelowReserved { on_hand: i64, reserved: i64 },
    #[error("cannot release or ship {wanted}: only {reserved} reserved")]
    NotReserved { reserved: i64, wanted: i64 },
    #[error("quantity {0} is out of range")]
    Overflow(i64),
}

/// Upper bound for any count kept in a position; keeps sums far from overflow.
pub const MAX_UNITS: i64 = 1_000_000_000;

impl Position {
    /// Units that may still be promised: `on_hand − reserved − safety_stock`,
    /// floored at zero.
    pub fn available(&self) -> i64 {
        (self.on_hand - self.reserved - self.safety_stock).max(0)
    }

    pub fn apply(&self, d: &StockDelta) -> Position {
        Position {
            on_hand: self.on_hand + d.on_hand,
            reserved: self.reserved + d.reserved,
            safety_stock: self.safety_stock + d.safety_stock,
        }
    }

    /// Whether the position honours `0 ≤ reserved ≤ on_hand`.
    pub fn is_sound(&self) -> bool {
        0 <= self.reserved && self.reserved <= self.on_hand && self.safety_stock >= 0
    }

    /// Goods received: on_hand grows.
    pub fn receive(&self, qty: i64) -> Result<StockDelta, StockError> {
        positive(qty)?;
        if self.on_hand + qty > MAX_UNITS {
            return Err(StockError::Overflow(qty));
        }
        Ok(delta(LedgerKind::Receipt, qty, 0))
    }

    /// A cycle count sets on_hand to what was counted. It may not fall below
    /// the units reserved for open orders: those must be re-routed first.
    pub fn count(&self, counted: i64) -> Result<StockDelta, StockError> {
        if counted < 0 {
            return Err(StockError::NegativeOnHand(counted));
        }
        if counted > MAX_UNITS {
            return Err(StockError::Overflow(counted));
        }
        if counted < self.reserved {
            return Err(StockError::BelowReserved { on_hand: counted, reserved: self.reserved });
        }
        Ok(delta(LedgerKind::CycleCount, counted - self.on_hand, 0))
    }

    /// A signed correction of on_hand (damage, found stock, ...).
    pub fn adjust(&self, by: i64) -> Result<StockDelta, StockError> {
        if by.unsigned_abs() > MAX_UNITS as u64 || self.on_hand + by > MAX_UNITS {
            return Err(StockError::Overflow(by));
        }
        let on_hand = self.on_hand + by;
        if on_hand < 0 {
            return Err(StockError::NegativeOnHand(on_hand));
        }
        if on_hand < self.reserved {
            return Err(StockError::BelowReserved { on_hand, reserved: self.reserved });
        }
        Ok(delta(LedgerKind::Adjustment, by, 0))
    }

    /// Sets the safety stock (units never promised to orders).
    pub fn set_safety_stock(&self, units: i64) -> Result<StockDelta, StockError> {
        if units < 0 {
            return Err(StockError::NegativeSafetyStock(units));
        }
        if units > MAX_UNITS {
            return Err(StockError::Overflow(units));
        }
        Ok(StockDelta {
            kind: LedgerKind::SafetyStock,
            on_hand: 0,
            reserved: 0,
            safety_stock: units - self.safety_stock,
        })
    }

    /// Holds `qty` available units for an order.
    pub fn reserve(&self, qty: i64) -> Result<StockDelta, StockError> {
        positive(qty)?;
        if qty > self.available() {
            return Err(StockError::Insufficient { available: self.available(), wanted: qty });
        }
        Ok(delta(LedgerKind::Reserve, 0, qty))
    }

    /// Gives `qty` reserved units back (cancel, expiry, re-route).
    pub fn release(&self, qty: i64) -> Result<StockDelta, StockError> {
        positive(qty)?;
        if qty > self.reserved {
            return Err(StockError::NotReserved { reserved: self.reserved, wanted: qty });
        }
        Ok(delta(LedgerKind::Release, 0, -qty))
    }

    /// A shipment consumes reserved units: on_hand and reserved both drop.
    pub fn ship(&self, qty: i64) -> Result<StockDelta, StockError> {
        positive(qty)?;
        if qty > self.reserved {
            return Err(StockError::NotReserved { reserved: self.reserved, wanted: qty });
        }
        Ok(delta(LedgerKind::Ship, -qty, -qty))
    }

    /// Returned goods put back on the shelf.
    pub fn return_restock(&self, qty: i64) -> Result<StockDelta, StockError> {
        positive(qty)?;
        if self.on_hand + qty > MAX_UNITS {
            return Err(StockError::Overflow(qty));
        }
        Ok(delta(LedgerKind::ReturnRestock, qty, 0))
    }
}

fn positive(qty: i64) -> Result<(), StockError> {
    if qty <= 0 {
        return Err(StockError::NonPositive(qty));
    }
    if qty > MAX_UNITS {
        return Err(StockError::Overflow(qty));
    }
    Ok(())
}

fn delta(kind: LedgerKind, on_hand: i64, reserved: i64) -> StockDelta {
    StockDelta { kind, on_hand, reserved, safety_stock: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(on_hand: i64, reserved: i64, safety_stock: i64) -> Position {
        Position { on_hand, reserved, safety_stock }
    }

    #[test]
    fn available_is_floored() {
        assert_eq!(pos(10, 3, 2).available(), 5);
        assert_eq!(pos(3, 2, 5).available(), 0);
    }

    #[test]
    fn reserve_never_exceeds_available() {
        assert!(pos(10, 3, 2).reserve(5).is_ok());
        assert_eq!(pos(10, 3, 2).reserve(6), Err(StockError::Insufficient { available: 5, wanted: 6 }));
        assert_eq!(pos(10, 0, 0).reserve(0), Err(StockError::NonPositive(0)));
    }

    #[test]
    fn count_cannot_strand_reservations() {
        assert_eq!(pos(10, 4, 0).count(3), Err(StockError::BelowReserved { on_hand: 3, reserved: 4 }));
        assert_eq!(pos(10, 4, 0).count(4).map(|d| d.on_hand), Ok(-6));
        assert!(pos(10, 4, 0).count(-1).is_err());
    }

    #[test]
    fn ship_consumes_both() {
        let p = pos(10, 4, 0);
        let d = p.ship(3).expect("ship");
        assert_eq!(p.apply(&d), pos(7, 1, 0));
        assert!(p.ship(5).is_err());
    }
}
