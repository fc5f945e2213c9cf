//! `/locations`: stores, warehouses and dropship vendors that stock ships from.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::{Address, Location, LocationDraft};
use switchyard_engine::Code;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{yes, ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_location)).routes(routes!(list_locations))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub line1: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    pub name: String,
    /// `store`, `warehouse` or `dropship`.
    pub kind: String,
    pub address: AddressBody,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[serde(default = "yes")]
    pub can_ship: bool,
    #[serde(default)]
    pub can_pickup: bool,
    /// Lower numbers are tried first.
    #[serde(default)]
    pub priority: i32,
    #[serde(default = "yes")]
    pub active: bool,
    /// Days before a dropship vendor ships.
    #[serde(default)]
    pub lead_time_days: u32,
    /// IANA time zone; its midnight resets the daily capacity (default UTC).
    #[serde(default = "utc")]
    pub timezone: String,
}

fn utc() -> String {
    "UTC".into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub code: String,
    #[serde(flatten)]
    pub body: LocationBody,
}

fn location_view(l: Location) -> LocationView {
    LocationView {
        code: l.code.to_string(),
        body: LocationBody {
            name: l.name,
            kind: l.kind.as_str().into(),
            address: AddressBody {
                line1: l.address.line1,
                city: l.address.city,
                region: l.address.region,
                postal_code: l.address.postal_code,
                country: l.address.country,
            },
            lat: l.lat,
            lon: l.lon,
            can_ship: l.can_ship,
            can_pickup: l.can_pickup,
            priority: l.priority,
            active: l.active,
            lead_time_days: l.lead_time_days,
            timezone: l.timezone,
        },
    }
}

/// Create or replace a location.
#[utoipa::path(put, path = "/locations/{code}", tag = "locations",
    params(("code" = String, Path, description = "Location code")),
    request_body = LocationBody,
    responses((status = 200, body = LocationView), (status = 422, body = ErrorBody)))]
async fn put_location(
    State(app): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<LocationBody>,
) -> Result<Json<LocationView>, ApiError> {
    let location = parse_location(code, body)?;
    let stored = app.engine.put_location(&location).await?;
    Ok(Json(location_view(stored)))
}

/// A location from its code and body: the core's checks, then the time
/// zone's (the API and the dashboard's form both come through here).
pub(crate) fn parse_location(code: String, body: LocationBody) -> Result<Location, ApiError> {
    let location = Location::parse(LocationDraft {
        code,
        name: body.name,
        kind: body.kind,
        address: Address {
            line1: body.address.line1,
            city: body.address.city,
            region: body.address.region,
            postal_code: body.address.postal_code,
            country: body.address.country,
        },
        lat: body.lat,
        lon: body.lon,
        can_ship: body.can_ship,
        can_pickup: body.can_pickup,
        priority: body.priority,
        active: body.active,
        lead_time_days: body.lead_time_days,
        timezone: body.timezone,
    })?;
    // The zone database lives in the store, so this one check stays here.
    if !switchyard_store::is_timezone(&location.timezone) {
        let message = format!("timezone {:?} is not an IANA time zone", location.timezone);
        return Err(ApiError::new(Code::InvalidBody, message));
    }
    Ok(location)
}

/// List locations in priority order.
#[utoipa::path(get, path = "/locations", tag = "locations", responses((status = 200, body = Vec<LocationView>)))]
async fn list_locations(State(app): State<AppState>) -> Result<Json<Vec<LocationView>>, ApiError> {
    Ok(Json(app.engine.list_locations().await?.into_iter().map(location_view).collect()))
}
