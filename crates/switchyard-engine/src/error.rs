//! The engine's errors and the one list of stable error codes.
//!
//! Every failure a client can see has a [`Code`]: a stable `snake_case`
//! string that scripts match on. The server maps each code to its HTTP
//! status in one table (`switchyard_server::error::status`), and the
//! README's list of codes is checked against [`Code::ALL`] by a test.

use switchyard_core::fulfilment::StepRefused;
use switchyard_core::returns::{IllegalReturnTransition, ReturnInputError, ReturnPolicyErrors, ReturnRequestError};
use switchyard_core::routing::PolicyErrors;
use switchyard_core::{IdError, IllegalTransition, IntakeError, MoneyError, StockError, TextError};
use switchyard_store::StoreError;

macro_rules! codes {
    ($($variant:ident = $code:literal,)+) => {
        /// A stable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($variant),+ }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),+ }
            }
        }
    };
}

codes! {
    // The request itself.
    Unauthorized = "unauthorized",
    Forbidden = "forbidden",
    NotFound = "not_found",
    InvalidJson = "invalid_json",
    InvalidPath = "invalid_path",
    InvalidQuery = "invalid_query",
    BadRequest = "bad_request",
    MethodNotAllowed = "method_not_allowed",
    PayloadTooLarge = "payload_too_large",
    UnsupportedMediaType = "unsupported_media_type",
    TooManyRequests = "too_many_requests",
    RequestTimeout = "request_timeout",
    // What it asks for.
    InvalidBody = "invalid_body",
    InvalidIdentifier = "invalid_identifier",
    InvalidQuantity = "invalid_quantity",
    InvalidAmount = "invalid_amount",
    InvalidCurrency = "invalid_currency",
    CurrencyMismatch = "currency_mismatch",
    AmountOverflow = "amount_overflow",
    InvalidCoordinates = "invalid_coordinates",
    UnknownSku = "unknown_sku",
    UnknownLocation = "unknown_location",
    AddressInvalid = "address_invalid",
    InvalidPolicy = "invalid_policy",
    InvalidTemplate = "invalid_template",
    // The state it meets.
    IllegalTransition = "illegal_transition",
    ExceedsAllocation = "exceeds_allocation",
    ExceedsReturnable = "exceeds_returnable",
    BelowReserved = "below_reserved",
    InsufficientStock = "insufficient_stock",
    InvalidRequest = "invalid_request",
    ChannelInactive = "channel_inactive",
    IdempotencyConflict = "idempotency_conflict",
    NoLabel = "no_label",
    StepOutOfOrder = "step_out_of_order",
    NothingToPick = "nothing_to_pick",
    // Ours, or a service we call.
    CarrierFailed = "carrier_failed",
    Internal = "internal",
    Unavailable = "unavailable",
    Overloaded = "overloaded",
}

/// Why a use case did not happen. Nothing it would have written was kept.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {key:?} was not found")]
    NotFound { what: &'static str, key: String },
    #[error("unknown sku {0:?}")]
    UnknownSku(String),
    #[error("unknown location {0:?}")]
    UnknownLocation(String),
    #[error(transparent)]
    Stock(#[from] StockError),
    #[error(transparent)]
    Transition(#[from] IllegalTransition),
    /// A fulfilment step the core's rules refuse (out of order, or at a
    /// location holding nothing of the order).
    #[error(transparent)]
    Step(#[from] StepRefused),
    #[error("{0}")]
    ExceedsAllocation(String),
    /// The request does not fit the current state (already paid, nothing to
    /// roll back, ...).
    #[error("{0}")]
    Conflict(String),
    /// The request itself is malformed in a way only the engine can see.
    #[error("{0}")]
    Invalid(String),
    /// The same (channel, external id) was received before with different
    /// content; the original order is kept.
    #[error("{0}")]
    IdempotencyConflict(String),
    #[error("the address is not deliverable: {0}")]
    InvalidAddress(String),
    #[error(transparent)]
    Policy(#[from] PolicyErrors),
    /// A return policy that does not parse or check.
    #[error(transparent)]
    ReturnPolicy(#[from] ReturnPolicyErrors),
    /// A return request or receipt refused (a field, a SKU not on the
    /// order or return, more units than it may take).
    #[error(transparent)]
    ReturnInput(#[from] ReturnInputError),
    /// A return status change the workflow does not allow.
    #[error(transparent)]
    ReturnTransition(#[from] IllegalReturnTransition),
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// Input the core's intake refused (a text field, a draft), found at
    /// the engine's door.
    #[error(transparent)]
    Intake(#[from] IntakeError),
    /// The order's channel is switched off: it takes no new orders.
    #[error("channel {0} is inactive and takes no new orders")]
    ChannelInactive(String),
    #[error("row {index}: {source}")]
    Row { index: usize, source: Box<Error> },
    /// The return has no label (never authorized: rejected, or waiting for
    /// a person).
    #[error("{0}")]
    NoLabel(String),
    /// The return carrier did not issue a label; nothing was recorded.
    #[error("{0}")]
    Carrier(String),
    /// The write queue is full; the client should retry shortly.
    #[error("the server is busy; retry shortly")]
    Overloaded,
    /// A purchase order status change the machine does not allow.
    #[error(transparent)]
    PoTransition(#[from] switchyard_core::dropship::IllegalPoTransition),
    /// A notification template that does not parse or render.
    #[error("{0}")]
    InvalidTemplate(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Work of ours that stopped (a background computation panicked): a
    /// bug, logged, never the client's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ReturnRequestError> for Error {
    fn from(e: ReturnRequestError) -> Self {
        Error::ReturnInput(e.into())
    }
}

impl From<TextError> for Error {
    fn from(e: TextError) -> Self {
        Error::Intake(e.into())
    }
}

impl Error {
    /// The stable code a client sees.
    pub fn code(&self) -> Code {
        match self {
            Error::NotFound { .. } => Code::NotFound,
            Error::UnknownSku(_) => Code::UnknownSku,
            Error::UnknownLocation(_) => Code::UnknownLocation,
            Error::Stock(s) => match s {
                StockError::BelowReserved { .. } => Code::BelowReserved,
                StockError::Insufficient { .. } | StockError::NotReserved { .. } => Code::InsufficientStock,
                _ => Code::InvalidQuantity,
            },
            Error::Transition(_) => Code::IllegalTransition,
            Error::Step(e) if e.is_nothing_here() => Code::NothingToPick,
            Error::Step(_) => Code::StepOutOfOrder,
            Error::ExceedsAllocation(_) => Code::ExceedsAllocation,
            Error::Conflict(_) => Code::InvalidRequest,
            Error::IdempotencyConflict(_) => Code::IdempotencyConflict,
            Error::Invalid(_) => Code::InvalidBody,
            Error::InvalidAddress(_) => Code::AddressInvalid,
            Error::Policy(_) | Error::ReturnPolicy(_) => Code::InvalidPolicy,
            Error::ReturnInput(e) => {
                Code::ALL.iter().copied().find(|c| c.as_str() == e.code()).unwrap_or(Code::InvalidBody)
            }
            Error::ReturnTransition(_) | Error::PoTransition(_) => Code::IllegalTransition,
            Error::Id(e) => match e {
                IdError::ZeroQuantity | IdError::NegativeQuantity(_) | IdError::QuantityTooLarge(_) => {
                    Code::InvalidQuantity
                }
                _ => Code::InvalidIdentifier,
            },
            Error::Money(e) => match e {
                MoneyError::BadCurrency(_) => Code::InvalidCurrency,
                MoneyError::CurrencyMismatch { .. } => Code::CurrencyMismatch,
                MoneyError::Overflow => Code::AmountOverflow,
                MoneyError::Negative => Code::InvalidAmount,
            },
            Error::Intake(e) => Code::ALL.iter().copied().find(|c| c.as_str() == e.code()).unwrap_or(Code::InvalidBody),
            Error::ChannelInactive(_) => Code::ChannelInactive,
            Error::NoLabel(_) => Code::NoLabel,
            Error::Carrier(_) => Code::CarrierFailed,
            Error::Row { source, .. } => source.code(),
            Error::Overloaded => Code::Overloaded,
            Error::InvalidTemplate(_) => Code::InvalidTemplate,
            Error::Store(StoreError::Unavailable(_) | StoreError::CommitFailed(_)) => Code::Unavailable,
            Error::Store(_) | Error::Internal(_) => Code::Internal,
        }
    }

    /// Whether the failure is ours (its detail is logged, never shown).
    pub fn is_internal(&self) -> bool {
        matches!(self.code(), Code::Internal)
    }

    pub(crate) fn at_row(self, index: usize) -> Error {
        Error::Row { index, source: Box::new(self) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(s.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{s}");
            assert!(seen.insert(s), "{s} twice");
        }
    }

    #[test]
    fn every_intake_code_is_a_code() {
        let cases = [
            IntakeError::NoOrderLines,
            IntakeError::BadCursor("x".into()),
            TextError::Empty { field: "by" }.into(),
            IntakeError::NegativeUnitPrice { line: 1 },
        ];
        for e in cases {
            let want = e.code();
            assert_eq!(Error::Intake(e).code().as_str(), want);
        }
    }

    #[test]
    fn every_return_input_code_is_a_code() {
        let sku = switchyard_core::Sku::parse("TEE").expect("sku");
        let cases: Vec<ReturnInputError> = vec![
            ReturnRequestError::TooMany { sku: sku.clone(), requested: 2, returnable: 1 }.into(),
            ReturnInputError::TooManyReceived { sku: sku.clone(), received: 2, expected: 1 },
            ReturnRequestError::Overflow.into(),
            ReturnRequestError::NegativePrice { sku: sku.clone() }.into(),
            ReturnInputError::NotOnOrder { sku },
            IntakeError::NoOrderLines.into(),
        ];
        for e in cases {
            let want = e.code();
            assert_eq!(Error::ReturnInput(e).code().as_str(), want);
        }
        assert_eq!(Error::from(ReturnRequestError::NoLines).code(), Code::InvalidBody);
    }

    #[test]
    fn corrupt_data_is_ours_and_an_absent_database_is_unavailable() {
        assert_eq!(Error::Store(StoreError::corrupt("bad")).code(), Code::Internal);
        assert_eq!(Error::Store(StoreError::Unavailable(sqlx_timeout())).code(), Code::Unavailable);
        assert_eq!(Error::Conflict("x".into()).at_row(3).code(), Code::InvalidRequest);
    }

    fn sqlx_timeout() -> switchyard_store::SqlxError {
        switchyard_store::SqlxError::PoolTimedOut
    }
}
