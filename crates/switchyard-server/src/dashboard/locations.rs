//! The Locations page: every stock location, and the form that adds or
//! edits one. The form goes through the API's `parse_location` (the core's
//! `Location::parse` and the time-zone check) and the engine's
//! `put_location`, so it accepts exactly what `PUT /api/v1/locations/{code}`
//! accepts. Coordinates are typed in: no offline postal-code table fit (see
//! the README), and nothing is looked up over the network.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use switchyard_core::{Location, LocationCode};

use super::page::{check_csrf, nav, render, url_component, whole_number, Nav, PageError, PageForm, PageQuery};
use crate::api::{parse_location, AddressBody, LocationBody};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/locations", get(locations_page).post(save))
        .route("/locations/new", get(new_page))
        .route("/locations/edit", get(edit_page))
}

const KINDS: [&str; 3] = ["store", "warehouse", "dropship"];

#[derive(Template)]
#[template(path = "locations.html")]
struct LocationsPage {
    nav: Nav,
    message: Option<&'static str>,
    /// Each location with its code as a URL query value.
    locations: Vec<(Location, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    done: Option<Done>,
}

/// What the redirect after a save reports; the text is ours.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Done {
    Added,
    Saved,
}

async fn locations_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ListQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "locations").await?;
    let message = q.done.map(|d| match d {
        Done::Added => "Location added.",
        Done::Saved => "Location saved.",
    });
    let locations = state.engine.list_locations().await?.into_iter().map(|l| {
        let code_url = url_component(l.code.as_str());
        (l, code_url)
    });
    render(LocationsPage { nav, message, locations: locations.collect() })
}

/// The form's fields as typed (strings, so a refused form comes back as it
/// was sent).
#[derive(Deserialize)]
struct LocationForm {
    csrf: String,
    /// `new` (refuses an existing code) or `edit`.
    mode: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    lead_time_days: String,
    #[serde(default)]
    timezone: String,
    // Checkboxes: present when ticked.
    can_ship: Option<String>,
    can_pickup: Option<String>,
    active: Option<String>,
}

impl LocationForm {
    fn blank() -> Self {
        LocationForm {
            csrf: String::new(),
            mode: "new".into(),
            code: String::new(),
            name: String::new(),
            kind: "store".into(),
            line1: String::new(),
            city: String::new(),
            region: String::new(),
            postal_code: String::new(),
            country: String::new(),
            lat: String::new(),
            lon: String::new(),
            priority: "0".into(),
            lead_time_days: "0".into(),
            timezone: "UTC".into(),
            can_ship: Some("1".into()),
            can_pickup: None,
            active: Some("1".into()),
        }
    }

    fn of(l: &Location) -> Self {
        let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        LocationForm {
            csrf: String::new(),
            mode: "edit".into(),
            code: l.code.to_string(),
            name: l.name.clone(),
            kind: l.kind.as_str().into(),
            line1: l.address.line1.clone(),
            city: l.address.city.clone(),
            region: l.address.region.clone(),
            postal_code: l.address.postal_code.clone(),
            country: l.address.country.clone(),
            lat: number(l.lat),
            lon: number(l.lon),
            priority: l.priority.to_string(),
            lead_time_days: l.lead_time_days.to_string(),
            timezone: l.timezone.clone(),
            can_ship: l.can_ship.then(|| "1".into()),
            can_pickup: l.can_pickup.then(|| "1".into()),
            active: l.active.then(|| "1".into()),
        }
    }

    /// The API's body for this form, or what is wrong with a number field.
    fn body(&self) -> Result<LocationBody, String> {
        let coordinate = |field: &str, raw: &str| match raw.trim() {
            "" => Ok(None),
            v => v.parse::<f64>().map(Some).map_err(|_| format!("{field}: {v:?} is not a number like 45.52")),
        };
        let or_zero = |raw: &str| if raw.trim().is_empty() { "0".to_owned() } else { raw.to_owned() };
        let timezone = self.timezone.trim();
        Ok(LocationBody {
            name: self.name.clone(),
            kind: self.kind.clone(),
            address: AddressBody {
                line1: self.line1.clone(),
                city: self.city.clone(),
                region: self.region.clone(),
                postal_code: self.postal_code.clone(),
                country: self.country.trim().to_ascii_uppercase(),
            },
            lat: coordinate("latitude", &self.lat)?,
            lon: coordinate("longitude", &self.lon)?,
            can_ship: self.can_ship.is_some(),
            can_pickup: self.can_pickup.is_some(),
            priority: whole_number("priority", &or_zero(&self.priority))?,
            active: self.active.is_some(),
            lead_time_days: whole_number("lead time (days)", &or_zero(&self.lead_time_days))?,
            timezone: if timezone.is_empty() { "UTC".into() } else { timezone.to_owned() },
        })
    }
}

#[derive(Template)]
#[template(path = "location_form.html")]
struct LocationFormPage {
    nav: Nav,
    error: Option<String>,
    kinds: Vec<(&'static str, bool)>,
    f: LocationForm,
}

fn form_page(nav: Nav, f: LocationForm, error: Option<String>) -> Result<Html<String>, PageError> {
    let kinds = KINDS.iter().map(|k| (*k, *k == f.kind)).collect();
    render(LocationFormPage { nav, error, kinds, f })
}

async fn new_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "locations").await?;
    form_page(nav, LocationForm::blank(), None)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditQuery {
    code: String,
}

async fn find(state: &AppState, code: &LocationCode) -> Result<Option<Location>, PageError> {
    Ok(state.engine.list_locations().await?.into_iter().find(|l| &l.code == code))
}

async fn edit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<EditQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "locations").await?;
    let code = LocationCode::parse(&q.code)?;
    let location = find(&state, &code)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("there is no location {code}")))?;
    form_page(nav, LocationForm::of(&location), None)
}

async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<LocationForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let adding = f.mode != "edit";
    let parsed = match f.body() {
        Ok(body) => parse_location(f.code.clone(), body).map_err(|e| e.message),
        Err(e) => Err(e),
    };
    let location = match parsed {
        Ok(l) => l,
        Err(e) => return refused(&state, &headers, f, e).await,
    };
    if adding && find(&state, &location.code).await?.is_some() {
        let e = format!("there is already a location {}; edit it from the list instead", location.code);
        return refused(&state, &headers, f, e).await;
    }
    state.engine.put_location(&location).await?;
    Ok(Redirect::to(if adding { "/locations?done=added" } else { "/locations?done=saved" }).into_response())
}

/// The form again, as sent, with what is wrong (422).
async fn refused(state: &AppState, headers: &HeaderMap, f: LocationForm, error: String) -> Result<Response, PageError> {
    let nav = nav(state, headers, "locations").await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(nav, f, Some(error))?).into_response())
}
