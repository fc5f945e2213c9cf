//! `ApiError`: one place that maps every failure to a stable code and an
//! HTTP status. Internal details are logged, never returned.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use switchyard_core::{IdError, MoneyError, StockError};
use switchyard_store::StoreError;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Structured detail (e.g. every error in a routing policy).
    pub details: Option<serde_json::Value>,
}

/// The JSON body of every error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code; scripts may match on it.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Structured detail, for some codes (e.g. `invalid_policy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: None }
    }
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid bearer token is required")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail { code: self.code.to_owned(), message: self.message, details: self.details },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
            StoreError::UnknownSku(_) => ApiError::invalid("unknown_sku", e.to_string()),
            StoreError::UnknownLocation(_) => ApiError::invalid("unknown_location", e.to_string()),
            StoreError::Stock(s) => s.into(),
            StoreError::Transition(_) => ApiError::new(StatusCode::CONFLICT, "illegal_transition", e.to_string()),
            StoreError::ExceedsAllocation(_) => {
                ApiError::new(StatusCode::CONFLICT, "exceeds_allocation", e.to_string())
            }
            StoreError::Invalid(_) => ApiError::new(StatusCode::CONFLICT, "invalid_request", e.to_string()),
            StoreError::InvalidAddress(_) => ApiError::invalid("address_invalid", e.to_string()),
            StoreError::Row { source, .. } => (*source).into(),
            StoreError::Database(_) | StoreError::Migrate(_) => {
                tracing::error!(error = %e, "store failure");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
            }
        }
    }
}

impl From<StockError> for ApiError {
    fn from(e: StockError) -> Self {
        match e {
            StockError::BelowReserved { .. } => ApiError::new(StatusCode::CONFLICT, "below_reserved", e.to_string()),
            StockError::Insufficient { .. } | StockError::NotReserved { .. } => {
                ApiError::new(StatusCode::CONFLICT, "insufficient_stock", e.to_string())
            }
            _ => ApiError::invalid("invalid_quantity", e.to_string()),
        }
    }
}

impl From<IdError> for ApiError {
    fn from(e: IdError) -> Self {
        match e {
            IdError::ZeroQuantity | IdError::NegativeQuantity(_) | IdError::QuantityTooLarge(_) => {
                ApiError::invalid("invalid_quantity", e.to_string())
            }
            _ => ApiError::invalid("invalid_identifier", e.to_string()),
        }
    }
}

impl From<MoneyError> for ApiError {
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::BadCurrency(_) => ApiError::invalid("invalid_currency", e.to_string()),
            MoneyError::CurrencyMismatch { .. } => ApiError::invalid("currency_mismatch", e.to_string()),
            MoneyError::Overflow => ApiError::invalid("amount_overflow", e.to_string()),
            MoneyError::Negative => ApiError::invalid("invalid_amount", e.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let message = r.body_text();
        match r {
            JsonRejection::JsonSyntaxError(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", message),
            JsonRejection::JsonDataError(_) => ApiError::invalid("invalid_body", message),
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "request body is too large")
            }
            other => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

impl From<switchyard_core::routing::PolicyErrors> for ApiError {
    fn from(e: switchyard_core::routing::PolicyErrors) -> Self {
        let details = e
            .errors()
            .iter()
            .map(|err| {
                serde_json::json!({
                    "line": err.line,
                    "column": err.column,
                    "field": err.path.to_string(),
                    "problem": err.problem.to_string(),
                })
            })
            .collect::<Vec<_>>();
        let mut api = ApiError::invalid("invalid_policy", e.to_string());
        api.details = Some(serde_json::Value::Array(details));
        api
    }
}
