//! `ApiError`: every failure as a stable [`Code`] plus a message, and the
//! one table from each code to its HTTP status ([`status`]). Internal
//! details are logged, never returned.

use axum::extract::rejection::{BytesRejection, FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use switchyard_core::intake::IntakeError;
use switchyard_engine::{Code, Error};
use utoipa::ToSchema;

/// The HTTP status of each code: the only place codes meet statuses.
pub fn status(code: Code) -> StatusCode {
    use Code::*;
    match code {
        Unauthorized => StatusCode::UNAUTHORIZED,
        Forbidden => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        InvalidJson | InvalidPath | InvalidQuery | BadRequest => StatusCode::BAD_REQUEST,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        InvalidBody | InvalidIdentifier | InvalidQuantity | InvalidAmount | InvalidCurrency | CurrencyMismatch
        | AmountOverflow | InvalidCoordinates | UnknownSku | UnknownLocation | AddressInvalid | InvalidPolicy
        | InvalidTemplate => StatusCode::UNPROCESSABLE_ENTITY,
        IllegalTransition | ExceedsAllocation | ExceedsReturnable | BelowReserved | InsufficientStock
        | InvalidRequest | ChannelInactive | IdempotencyConflict | NoLabel | StepOutOfOrder | NothingToPick => {
            StatusCode::CONFLICT
        }
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        CarrierFailed => StatusCode::BAD_GATEWAY,
        Unavailable | Overloaded => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Structured detail (e.g. every error in a routing policy).
    pub details: Option<serde_json::Value>,
    /// Seconds for `Retry-After`, when the client should come back later.
    pub retry_after: Option<u64>,
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
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None, retry_after: None }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(Code::Unauthorized, "a valid bearer token is required")
    }
    pub fn status(&self) -> StatusCode {
        status(self.code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry = match self.code {
            Code::Overloaded | Code::Unavailable => Some(self.retry_after.unwrap_or(1)),
            _ => self.retry_after,
        };
        let body = ErrorBody {
            error: ErrorDetail { code: self.code.as_str().to_owned(), message: self.message, details: self.details },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = e.code();
        match (code, e) {
            (Code::Internal, e) => {
                tracing::error!(error = %e, "internal error");
                ApiError::new(Code::Internal, "internal error; see the server log")
            }
            (Code::Unavailable, e) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::new(Code::Unavailable, "the database is not answering; retry shortly")
            }
            (_, Error::Policy(p)) => p.into(),
            (_, Error::ReturnPolicy(p)) => p.into(),
            (_, Error::Row { index, source }) => {
                let inner = ApiError::from(*source);
                ApiError { message: format!("row {index}: {}", inner.message), ..inner }
            }
            (code, e) => ApiError::new(code, e.to_string()),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        let code = Code::ALL.iter().copied().find(|c| c.as_str() == e.code()).unwrap_or(Code::InvalidBody);
        ApiError::new(code, e.to_string())
    }
}

impl From<switchyard_core::IdError> for ApiError {
    fn from(e: switchyard_core::IdError) -> Self {
        Error::from(e).into()
    }
}

impl From<switchyard_core::MoneyError> for ApiError {
    fn from(e: switchyard_core::MoneyError) -> Self {
        Error::from(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let message = r.body_text();
        match r {
            JsonRejection::JsonSyntaxError(_) => ApiError::new(Code::InvalidJson, message),
            JsonRejection::JsonDataError(_) => ApiError::new(Code::InvalidBody, message),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(Code::UnsupportedMediaType, message),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(Code::PayloadTooLarge, "request body is too large")
            }
            other => ApiError::new(Code::BadRequest, other.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(Code::PayloadTooLarge, "request body is too large")
        } else {
            ApiError::new(Code::BadRequest, r.body_text())
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(Code::PayloadTooLarge, "the form is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(Code::UnsupportedMediaType, r.body_text()),
            _ => ApiError::new(Code::BadRequest, r.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(Code::InvalidPath, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(Code::InvalidQuery, r.body_text())
    }
}

/// An `invalid_policy` error whose `details` list each problem's line,
/// column, field and problem (routing and return policies alike).
fn policy_error(
    message: String,
    problems: impl Iterator<Item = (Option<usize>, Option<usize>, String, String)>,
) -> ApiError {
    let details = problems
        .map(|(line, column, field, problem)| {
            serde_json::json!({ "line": line, "column": column, "field": field, "problem": problem })
        })
        .collect::<Vec<_>>();
    let mut api = ApiError::new(Code::InvalidPolicy, message);
    api.details = Some(serde_json::Value::Array(details));
    api
}

impl From<switchyard_core::routing::PolicyErrors> for ApiError {
    fn from(e: switchyard_core::routing::PolicyErrors) -> Self {
        let problems = e.errors().iter().map(|p| (p.line, p.column, p.path.to_string(), p.problem.to_string()));
        policy_error(e.to_string(), problems)
    }
}

impl From<switchyard_core::returns::ReturnPolicyErrors> for ApiError {
    fn from(e: switchyard_core::returns::ReturnPolicyErrors) -> Self {
        let problems = e.errors().iter().map(|p| (p.line, p.column, p.path.to_string(), p.problem.to_string()));
        policy_error(e.to_string(), problems)
    }
}

impl From<switchyard_core::returns::ReturnInputError> for ApiError {
    fn from(e: switchyard_core::returns::ReturnInputError) -> Self {
        Error::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README lists every code with its status; a code added to the
    /// enum without a line there (or the other way round) fails here.
    #[test]
    fn the_readme_lists_every_error_code_with_its_status() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("<!-- error-codes -->").expect("README has an error-codes table");
        let end = readme.find("<!-- /error-codes -->").expect("the table is closed");
        let table = &readme[start..end];
        let mut listed = std::collections::BTreeMap::new();
        for line in table.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            listed.insert(cells[1].trim_matches('`').to_owned(), cells[2].parse::<u16>().unwrap_or(0));
        }
        for code in Code::ALL {
            let want = status(*code).as_u16();
            assert_eq!(
                listed.remove(code.as_str()),
                Some(want),
                "README: `{}` should be listed as {want}",
                code.as_str()
            );
        }
        assert!(listed.is_empty(), "README lists codes the enum does not have: {listed:?}");
    }
}
