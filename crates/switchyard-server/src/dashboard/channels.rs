//! The Channels pages: every connection with how its stock sync stands
//! (the engine's `channel_sync_status`), one connection's own page (its
//! recent requests, its levels, its SKU map with add and remove forms, and
//! mapping suggestions), and "Resync all stock" (`resync_channel`). The
//! connect and edit form is `channel_form`.
//!
//! Mapping suggestions are deliberately simple, two kinds:
//! - a level whose SKU has no mapping goes out under our own code; when the
//!   platform needs a listing id to set stock (Shopify, WooCommerce, Etsy)
//!   or the level failed, the page offers a form to map it;
//! - a code typed into the lookup (or into the add form, when it names no
//!   SKU of ours) is compared with every SKU code ignoring case, spaces and
//!   punctuation (`TEE red/M` matches `TEE-RED-M`); the matches come with a
//!   button that maps them. The lookup reads the catalogue's codes once per
//!   request, so it runs only when asked for, never on a plain page view.
//!
//! A connection's page shows at most [`MAX_LEVELS`] levels (dead first,
//! then pending, then settled) and [`MAX_MAP`] mappings; the API has them
//! all (`GET /api/v1/channels/{name}/levels`, `…/skus`).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_core::{Channel, ChannelKind, ChannelName, Sku};
use switchyard_engine::{ChannelLevel, ChannelSync, SyncAttempt, SyncOptions, SyncStatus};

use super::page::{check_csrf, nav, render, short_time, url_component, Nav, PageError, PageForm, PagePath, PageQuery};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/channels", get(channels_page))
        .route("/channels/{name}", get(channel_page))
        .route("/channels/{name}/resync", post(resync))
        .route("/channels/{name}/test", post(test_connection))
        .route("/channels/{name}/skus", post(map_sku))
        .route("/channels/{name}/skus/remove", post(unmap_sku))
}

/// Levels shown on a connection's page.
const MAX_LEVELS: usize = 200;
/// Mappings shown on a connection's page.
const MAX_MAP: usize = 500;
/// Suggestions of each kind shown.
const MAX_SUGGESTIONS: usize = 50;

/// One request to the platform, as shown.
struct AttemptRow {
    at: String,
    purpose: String,
    items: i64,
    outcome: String,
    http_status: String,
    error: String,
}

fn attempt_row(a: SyncAttempt) -> AttemptRow {
    AttemptRow {
        at: when(Some(a.at)),
        purpose: a.purpose,
        items: a.items,
        outcome: a.outcome,
        http_status: a.http_status.map(|s| s.to_string()).unwrap_or_default(),
        error: a.error.unwrap_or_default(),
    }
}

/// A connection and its sync figures, as the list and its page show them.
struct Figures {
    name: String,
    name_url: String,
    display_name: String,
    kind: &'static str,
    mode: &'static str,
    active: bool,
    pushes_stock: bool,
    /// Why it does not push stock, when it does not.
    why_not: &'static str,
    last_order: String,
    backlog: i64,
    unprocessed: i64,
    dead: i64,
    lag_p50: String,
    lag_p95: String,
    lag_samples: usize,
    last_ack: String,
    failures: Vec<AttemptRow>,
}

fn has_api(kind: ChannelKind) -> bool {
    switchyard_channels::remote::remote(kind).is_some()
}

fn figures(c: &Channel, s: SyncStatus) -> Figures {
    let why_not = match (c.active, c.mode.as_str(), has_api(c.kind)) {
        (_, _, false) => "this kind has no API to send stock to",
        (false, _, _) => "switched off",
        (true, "live", true) => "",
        _ => "import only: orders come in, nothing is sent",
    };
    Figures {
        name: c.name.to_string(),
        name_url: url_component(c.name.as_str()),
        display_name: c.display_name.clone(),
        kind: c.kind.as_str(),
        mode: c.mode.as_str(),
        active: c.active,
        pushes_stock: s.pushes_stock,
        why_not,
        last_order: when(s.last_order_at),
        backlog: s.backlog,
        unprocessed: s.unprocessed_changes,
        dead: s.dead,
        lag_p50: duration(s.lag_p50_ms),
        lag_p95: duration(s.lag_p95_ms),
        lag_samples: s.lag_samples,
        last_ack: when(s.last_ack_at),
        failures: s.recent_failures.into_iter().map(attempt_row).collect(),
    }
}

/// A moment as "2026-11-30 12:00:00", or "never".
fn when(ms: Option<i64>) -> String {
    ms.map(|ms| short_time(&switchyard_store::rfc3339(ms))).unwrap_or_else(|| "never".into())
}

/// A duration in milliseconds as "850 ms" or "12.3 s" (integer arithmetic),
/// or "—" when there is none.
fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 1_000 => format!("{ms} ms"),
        Some(ms) => format!("{}.{} s", ms / 1_000, (ms % 1_000) / 100),
    }
}

/// A code compared for suggestions: letters and digits only, lower case.
fn normalized(code: &str) -> String {
    code.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// What the redirect after an action reports; the text is ours.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Done {
    Connected,
    Saved,
    Resynced,
    Mapped,
    Unmapped,
}

fn message(done: Option<Done>, levels: Option<usize>) -> Option<String> {
    done.map(|d| match d {
        Done::Connected => "Channel connected.".to_owned(),
        Done::Saved => "Channel saved.".to_owned(),
        Done::Resynced => format!("Resync started: {} level(s) will be sent again.", levels.unwrap_or(0)),
        Done::Mapped => "Mapping saved.".to_owned(),
        Done::Unmapped => "Mapping removed.".to_owned(),
    })
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    nav: Nav,
    message: Option<String>,
    channels: Vec<Figures>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    done: Option<Done>,
    levels: Option<usize>,
}

async fn channels_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ListQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "channels").await?;
    let mut channels = Vec::new();
    for c in state.engine.list_channels().await? {
        let s = state.engine.channel_sync_status(&c.name).await?;
        channels.push(figures(&c, s));
    }
    render(ChannelsPage { nav, message: message(q.done, q.levels), channels })
}

/// One level, as its table shows it.
struct LevelRow {
    sku: String,
    sku_url: String,
    wanted: i64,
    sent: String,
    sent_at: String,
    state: &'static str,
    failures: i64,
    last_error: String,
    /// Where the channel sells it: its SKUs from the map, or our own code.
    sent_as: String,
}

fn level_state(l: &ChannelLevel) -> &'static str {
    match (l.dead_at, l.changed_at) {
        (Some(_), _) => "dead",
        (None, Some(_)) => "pending",
        (None, None) => "settled",
    }
}

/// One mapping, with the way to remove it.
struct MapRow {
    channel_sku: String,
    sku: String,
    sku_url: String,
    listing: String,
}

/// Our SKU that goes out under its own code, and why it wants a mapping.
struct Unmapped {
    sku: String,
    why: String,
}

/// The add-mapping form's fields, as typed.
#[derive(Deserialize, Default)]
struct MapForm {
    csrf: String,
    #[serde(default)]
    channel_sku: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    listing: String,
}

#[derive(Template)]
#[template(path = "channel.html")]
struct ChannelPage {
    nav: Nav,
    message: Option<String>,
    error: Option<String>,
    f: Figures,
    base_url: String,
    sku_scope: String,
    buffer: String,
    settings: Vec<(String, String)>,
    credentials: Vec<String>,
    webhook_secret_set: bool,
    needs_listing: bool,
    recent: Vec<AttemptRow>,
    levels: Vec<LevelRow>,
    levels_total: usize,
    map: Vec<MapRow>,
    map_total: usize,
    unmapped: Vec<Unmapped>,
    /// The lookup's code and our SKUs that match it.
    suggest: String,
    matches: Option<Vec<String>>,
    /// The channel SKU a suggestion's button maps: the one typed into the
    /// refused add form, else the lookup's code.
    suggest_for: String,
    form: MapForm,
}

/// Whether the platform needs the listing id to set a SKU's stock.
fn needs_listing(kind: ChannelKind) -> bool {
    matches!(kind, ChannelKind::Shopify | ChannelKind::Woocommerce | ChannelKind::Etsy)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQueryFields {
    done: Option<Done>,
    levels: Option<usize>,
    suggest: Option<String>,
}

fn parse_name(raw: &str) -> Result<ChannelName, PageError> {
    ChannelName::parse(raw).map_err(|e| PageError::Status(StatusCode::BAD_REQUEST, e.to_string()))
}

async fn channel_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(name): PagePath<String>,
    PageQuery(q): PageQuery<PageQueryFields>,
) -> Result<Response, PageError> {
    let name = parse_name(&name)?;
    let form = MapForm::default();
    let view = View { message: message(q.done, q.levels), error: None, suggest: q.suggest, form };
    Ok(page(&state, &headers, &name, view).await?.into_response())
}

/// What a connection's page shows besides the connection itself.
struct View {
    message: Option<String>,
    error: Option<String>,
    suggest: Option<String>,
    form: MapForm,
}

/// Our SKU codes that match `code` ignoring case, spaces and punctuation.
async fn matching_skus(state: &AppState, code: &str) -> Result<Vec<String>, PageError> {
    let wanted = normalized(code);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let codes = state.engine.sku_codes().await?;
    Ok(codes.into_iter().filter(|c| normalized(c) == wanted).take(MAX_SUGGESTIONS).collect())
}

async fn page(state: &AppState, headers: &HeaderMap, name: &ChannelName, v: View) -> Result<Html<String>, PageError> {
    let nav = nav(state, headers, "channels").await?;
    let (c, secret) = state
        .engine
        .channel_connection(name)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("there is no channel {name}")))?;
    let status = state.engine.channel_sync_status(name).await?;
    let recent = status.recent.clone().into_iter().map(attempt_row).collect();
    let credentials = state.engine.credential_names(name).await?;
    let entries = state.engine.channel_sku_entries(name).await?;
    let mut levels = state.engine.channel_levels(name).await?;
    let levels_total = levels.len();
    let rank = |l: &ChannelLevel| match level_state(l) {
        "dead" => 0,
        "pending" => 1,
        _ => 2,
    };
    levels.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.sku.cmp(&b.sku)));
    let sent_as = |sku: &str| {
        let names: Vec<&str> =
            entries.iter().filter(|e| e.sku.as_str() == sku).map(|e| e.channel_sku.as_str()).collect();
        if names.is_empty() {
            String::new()
        } else {
            names.join(", ")
        }
    };
    let needs_listing = needs_listing(c.kind);
    let unmapped = levels
        .iter()
        .filter(|l| sent_as(&l.sku).is_empty())
        .filter_map(|l| {
            let why = if l.dead_at.is_some() || l.failures > 0 {
                format!("the channel refused it under our code: {}", l.last_error.as_deref().unwrap_or("no answer"))
            } else if needs_listing {
                format!("{} needs the listing id to set its stock", c.kind.as_str())
            } else {
                return None;
            };
            Some(Unmapped { sku: l.sku.clone(), why })
        })
        .take(MAX_SUGGESTIONS)
        .collect();
    let level_rows = levels
        .iter()
        .take(MAX_LEVELS)
        .map(|l| LevelRow {
            sku: l.sku.clone(),
            sku_url: url_component(&l.sku),
            wanted: l.wanted,
            sent: l.sent.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
            sent_at: l.sent_at.map(|t| when(Some(t))).unwrap_or_default(),
            state: level_state(l),
            failures: l.failures,
            last_error: l.last_error.clone().unwrap_or_default(),
            sent_as: sent_as(&l.sku),
        })
        .collect();
    let map_total = entries.len();
    let map = entries
        .iter()
        .take(MAX_MAP)
        .map(|e| MapRow {
            channel_sku: e.channel_sku.clone(),
            sku: e.sku.to_string(),
            sku_url: url_component(e.sku.as_str()),
            listing: e.listing.clone().unwrap_or_default(),
        })
        .collect();
    let suggest = v.suggest.map(|s| s.trim().to_owned()).unwrap_or_default();
    let matches = if suggest.is_empty() { None } else { Some(matching_skus(state, &suggest).await?) };
    let typed = v.form.channel_sku.trim();
    let suggest_for = if typed.is_empty() { suggest.clone() } else { typed.to_owned() };
    let b = &c.buffer;
    let mut buffer = format!("{} unit(s), {}%", b.units, b.percent);
    if let Some(max) = b.max_share_percent {
        buffer.push_str(&format!(", at most {max}% of what is available"));
    }
    render(ChannelPage {
        nav,
        message: v.message,
        error: v.error,
        base_url: c.base_url.clone().unwrap_or_default(),
        sku_scope: c.sku_scope.entries().join(", "),
        buffer,
        settings: c.settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        credentials,
        webhook_secret_set: secret.is_some(),
        needs_listing,
        f: figures(&c, status),
        recent,
        levels: level_rows,
        levels_total,
        map,
        map_total,
        unmapped,
        suggest,
        matches,
        suggest_for,
        form: v.form,
    })
}

/// "Resync all stock": a button on the list and on the connection's page.
#[derive(Deserialize)]
struct ResyncForm {
    csrf: String,
    /// `list` to come back to the list; the connection's page otherwise.
    #[serde(default)]
    back: String,
}

async fn resync(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(name): PagePath<String>,
    PageForm(f): PageForm<ResyncForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let name = parse_name(&name)?;
    let n = state.engine.resync_channel(&name).await?;
    let to = if f.back == "list" {
        format!("/channels?done=resynced&levels={n}")
    } else {
        format!("/channels/{}?done=resynced&levels={n}", url_component(name.as_str()))
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// "Test connection": the page again, with what the platform answered.
async fn test_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(name): PagePath<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let name = parse_name(&name)?;
    let check = ChannelSync::new(state.engine.clone(), SyncOptions::default())?.check_connection(&name).await?;
    let (message, error) = if check.ok {
        (Some(format!("Connection works: {}.", check.message)), None)
    } else {
        let status = check.http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
        (None, Some(format!("Connection test failed at the {} step{status}: {}", check.step, check.message)))
    };
    let view = View { message, error, suggest: None, form: MapForm::default() };
    Ok(page(&state, &headers, &name, view).await?.into_response())
}

async fn map_sku(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(name): PagePath<String>,
    PageForm(f): PageForm<MapForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let name = parse_name(&name)?;
    let sku = match Sku::parse(f.sku.trim()) {
        Ok(s) => s,
        Err(e) => return refused(&state, &headers, &name, f, format!("our SKU: {e}")).await,
    };
    let listing = Some(f.listing.as_str()).filter(|l| !l.trim().is_empty());
    match state.engine.map_channel_sku(&name, &f.channel_sku, &sku, listing).await {
        Ok(()) => {}
        Err(e) => {
            let api: crate::ApiError = e.into();
            if api.status() != StatusCode::UNPROCESSABLE_ENTITY {
                return Err(super::page::api_page(api));
            }
            return refused(&state, &headers, &name, f, api.message).await;
        }
    }
    Ok(Redirect::to(&format!("/channels/{}?done=mapped", url_component(name.as_str()))).into_response())
}

/// The connection's page with the add form as sent and what is wrong with
/// it (422); when our SKU is unknown, the codes that match it.
async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    name: &ChannelName,
    f: MapForm,
    error: String,
) -> Result<Response, PageError> {
    let suggest = Some(f.sku.clone()).filter(|s| !s.trim().is_empty());
    let view = View { message: None, error: Some(error), suggest, form: f };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page(state, headers, name, view).await?).into_response())
}

#[derive(Deserialize)]
struct UnmapForm {
    csrf: String,
    channel_sku: String,
}

async fn unmap_sku(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(name): PagePath<String>,
    PageForm(f): PageForm<UnmapForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let name = parse_name(&name)?;
    if !state.engine.unmap_channel_sku(&name, &f.channel_sku).await? {
        let e = format!("channel {name} has no mapping for {:?}", f.channel_sku.trim());
        return Err(PageError::Status(StatusCode::NOT_FOUND, e));
    }
    Ok(Redirect::to(&format!("/channels/{}?done=unmapped", url_component(name.as_str()))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_compare_without_case_spaces_or_punctuation() {
        assert_eq!(normalized(" TEE red/M "), "teeredm");
        assert_eq!(normalized("tee-red-m"), normalized("TEE_RED.M"));
        assert_ne!(normalized("TEE-RED-M"), normalized("TEE-RED-L"));
        assert_eq!(normalized("--/"), "");
        assert_eq!(normalized("Ärmel-1"), "ärmel1");
    }

    #[test]
    fn durations_are_shown_in_ms_or_seconds() {
        assert_eq!(duration(None), "—");
        assert_eq!(duration(Some(850)), "850 ms");
        assert_eq!(duration(Some(12_345)), "12.3 s");
    }
}
