//! Connecting a channel and editing its connection: one form with the
//! fields of `PUT /api/v1/channels/{name}`, checked by the API's
//! `parse_channel` (the core's `Channel::parse`) and saved by the engine's
//! `put_connection_with`.
//!
//! Secrets are write-only here as in the API: the credential fields are
//! password fields that are always empty; the names of the credentials
//! already set are shown, never their values; a field left blank keeps
//! what is stored, a ticked "remove" drops it. The webhook secret works
//! the same way. A refused form comes back as typed except for those
//! fields, which are never written into a page.
//!
//! What each kind needs ([`KIND_HELP`]) is written out from the README's
//! "Stock levels out to the channels" and the module docs of
//! `switchyard-channels/src/remote/`. There is no "Test connection" button:
//! the sync worker's first request shows on the channel's page.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use switchyard_core::{Channel, ChannelKind, ChannelName};
use switchyard_engine::CredentialChange;

use super::page::{api_page, check_csrf, nav, render, url_component, whole_number, Nav, PageError, PageForm, PagePath};
use crate::api::{parse_channel, ChannelBody};
use crate::{ApiError, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/channels/new", get(new_page).post(create))
        .route("/channels/{name}/edit", get(edit_page).post(update))
}

/// The credential names the platforms use, each a password field.
const KNOWN_CREDENTIALS: [&str; 7] =
    ["access_token", "consumer_key", "consumer_secret", "client_id", "client_secret", "refresh_token", "shared_secret"];

/// What one kind of connection needs, for the form's help table.
struct KindHelp {
    kind: &'static str,
    settings: &'static str,
    credentials: &'static str,
    listing: &'static str,
}

const KIND_HELP: [KindHelp; 6] = [
    KindHelp {
        kind: "shopify",
        settings: "shop (your-shop), location_id (required); api_version (optional)",
        credentials: "access_token (the custom app's Admin API token); webhook secret: the app's API secret key",
        listing: "inventory item id",
    },
    KindHelp {
        kind: "woocommerce",
        settings: "store_url (https://…, required)",
        credentials: "consumer_key, consumer_secret (a Read/Write REST key); webhook secret: the webhooks' secret",
        listing: "product id (parent:variation for a variation)",
    },
    KindHelp {
        kind: "amazon",
        settings: "seller_id, marketplace_id (required); region (na, eu, fe; default na), product_type (default \
                   PRODUCT), fulfillment_channel_code (default DEFAULT)",
        credentials: "client_id, client_secret, refresh_token (the LWA app's)",
        listing: "none: seller SKUs as they are",
    },
    KindHelp {
        kind: "etsy",
        settings: "shop_id (required)",
        credentials: "client_id (the keystring), shared_secret, refresh_token",
        listing: "listing id",
    },
    KindHelp {
        kind: "ebay",
        settings: "scope (optional; default sell.inventory and sell.fulfillment)",
        credentials: "client_id, client_secret, refresh_token",
        listing: "none: Inventory API SKUs as they are",
    },
    KindHelp {
        kind: "pos, wholesale, api",
        settings: "none",
        credentials: "none: orders come to Switchyard, nothing is sent back",
        listing: "—",
    },
];

/// The form's fields as typed (strings, so a refused form comes back as
/// it was sent). Credential fields arrive as `credential.<name>` and
/// `remove.<name>`, collected in `rest`.
#[derive(Deserialize)]
struct ChannelForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    mode: String,
    active: Option<String>,
    #[serde(default)]
    sku_scope: String,
    #[serde(default)]
    buffer_units: String,
    #[serde(default)]
    buffer_percent: String,
    #[serde(default)]
    max_share_percent: String,
    #[serde(default)]
    settings: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    webhook_secret: String,
    remove_webhook_secret: Option<String>,
    #[serde(default)]
    other_credential: String,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl ChannelForm {
    fn blank() -> Self {
        ChannelForm {
            csrf: String::new(),
            name: String::new(),
            display_name: String::new(),
            kind: "shopify".into(),
            mode: "import_only".into(),
            active: Some("1".into()),
            sku_scope: String::new(),
            buffer_units: "0".into(),
            buffer_percent: "0".into(),
            max_share_percent: String::new(),
            settings: String::new(),
            base_url: String::new(),
            webhook_secret: String::new(),
            remove_webhook_secret: None,
            other_credential: String::new(),
            rest: BTreeMap::new(),
        }
    }

    fn of(c: &Channel) -> Self {
        ChannelForm {
            name: c.name.to_string(),
            display_name: c.display_name.clone(),
            kind: c.kind.as_str().into(),
            mode: c.mode.as_str().into(),
            active: c.active.then(|| "1".into()),
            sku_scope: c.sku_scope.entries().join("\n"),
            buffer_units: c.buffer.units.to_string(),
            buffer_percent: c.buffer.percent.to_string(),
            max_share_percent: c.buffer.max_share_percent.map(|m| m.to_string()).unwrap_or_default(),
            settings: c.settings.iter().map(|(k, v)| format!("{k}={v}\n")).collect(),
            base_url: c.base_url.clone().unwrap_or_default(),
            ..ChannelForm::blank()
        }
    }

    /// The API's body for this form (credentials aside), or what is wrong
    /// with a field the API would take as a number or a map.
    fn body(&self) -> Result<ChannelBody, String> {
        let number = |field: &str, raw: &str| -> Result<i64, String> {
            if raw.trim().is_empty() {
                Ok(0)
            } else {
                whole_number(field, raw)
            }
        };
        let max_share = match self.max_share_percent.trim() {
            "" => None,
            raw => Some(whole_number("most it is told (%)", raw)?),
        };
        let mut settings = BTreeMap::new();
        for (i, line) in self.settings.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!("settings, line {}: {line:?} is not key=value", i + 1));
            };
            if settings.insert(k.trim().to_owned(), v.trim().to_owned()).is_some() {
                return Err(format!("settings, line {}: {:?} is set twice", i + 1, k.trim()));
            }
        }
        let secret = match (self.remove_webhook_secret.is_some(), self.webhook_secret.trim()) {
            (true, _) => Some(String::new()),
            (false, "") => None,
            (false, s) => Some(s.to_owned()),
        };
        Ok(ChannelBody {
            kind: Some(self.kind.clone()),
            webhook_secret: secret,
            buffer_units: Some(number("buffer (units)", &self.buffer_units)?),
            buffer_percent: Some(number("buffer (%)", &self.buffer_percent)?),
            max_share_percent: max_share,
            mode: Some(self.mode.clone()),
            sku_scope: self.sku_scope.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
            base_url: Some(self.base_url.trim()).filter(|u| !u.is_empty()).map(str::to_owned),
            credentials: None,
            display_name: Some(self.display_name.trim()).filter(|d| !d.is_empty()).map(str::to_owned),
            settings,
            active: self.active.is_some(),
        })
    }

    /// What the credential fields change: the typed ones are set, the
    /// ticked ones removed, the rest kept.
    fn credentials(&self) -> Result<CredentialChange, String> {
        let mut set = BTreeMap::new();
        let mut remove = BTreeSet::new();
        for (key, value) in &self.rest {
            if let Some(name) = key.strip_prefix("credential.") {
                if !value.trim().is_empty() {
                    set.insert(name.to_owned(), value.trim().to_owned());
                }
            } else if let Some(name) = key.strip_prefix("remove.") {
                remove.insert(name.to_owned());
            }
        }
        match self.other_credential.trim() {
            "" => {}
            other => {
                let Some((name, value)) = other.split_once('=') else {
                    return Err("another credential: type name=value".into());
                };
                set.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        Ok(CredentialChange::Update { set, remove })
    }
}

/// One credential field: its name, whether one is stored, what uses it.
struct CredentialField {
    name: String,
    stored: bool,
}

#[derive(Template)]
#[template(path = "channel_form.html")]
struct ChannelFormPage {
    nav: Nav,
    /// `new`, or `edit` with the name fixed.
    editing: bool,
    name_url: String,
    error: Option<String>,
    kinds: Vec<(&'static str, bool)>,
    credentials: Vec<CredentialField>,
    webhook_secret_set: bool,
    help: &'static [KindHelp],
    f: ChannelForm,
}

/// The form page; `stored` are the names of the credentials already set.
fn form_page(
    nav: Nav,
    f: ChannelForm,
    editing: bool,
    stored: &[String],
    webhook_secret_set: bool,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let kinds = ChannelKind::ALL.iter().map(|k| (k.as_str(), k.as_str() == f.kind)).collect();
    let mut names: BTreeSet<&str> = KNOWN_CREDENTIALS.into_iter().collect();
    names.extend(stored.iter().map(String::as_str));
    let credentials = names
        .into_iter()
        .map(|n| CredentialField { name: n.to_owned(), stored: stored.iter().any(|s| s == n) })
        .collect();
    render(ChannelFormPage {
        nav,
        editing,
        name_url: url_component(&f.name),
        error,
        kinds,
        credentials,
        webhook_secret_set,
        help: &KIND_HELP,
        f,
    })
}

async fn new_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "channels").await?;
    form_page(nav, ChannelForm::blank(), false, &[], false, None)
}

fn parse_name(raw: &str) -> Result<ChannelName, PageError> {
    ChannelName::parse(raw).map_err(|e| PageError::Status(StatusCode::BAD_REQUEST, e.to_string()))
}

async fn edit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(name): PagePath<String>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "channels").await?;
    let name = parse_name(&name)?;
    let (c, secret) = state
        .engine
        .channel_connection(&name)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("there is no channel {name}")))?;
    let stored = state.engine.credential_names(&name).await?;
    form_page(nav, ChannelForm::of(&c), true, &stored, secret.is_some(), None)
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<ChannelForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let name = f.name.trim().to_owned();
    save(&state, &headers, name, f, false).await
}

async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(name): PagePath<String>,
    PageForm(mut f): PageForm<ChannelForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let name = parse_name(&name)?;
    if state.engine.channel_connection(&name).await?.is_none() {
        return Err(PageError::Status(StatusCode::NOT_FOUND, format!("there is no channel {name}")));
    }
    f.name = name.to_string();
    save(&state, &headers, name.to_string(), f, true).await
}

async fn save(
    state: &AppState,
    headers: &HeaderMap,
    name: String,
    f: ChannelForm,
    editing: bool,
) -> Result<Response, PageError> {
    let checked = f.body().and_then(|body| {
        let channel = parse_channel(name.clone(), &body).map_err(|e| e.message)?;
        Ok((channel, body.webhook_secret, f.credentials()?))
    });
    let (channel, secret, credentials) = match checked {
        Ok(c) => c,
        Err(e) => return refused(state, headers, f, editing, e).await,
    };
    if !editing && state.engine.channel_connection(&channel.name).await?.is_some() {
        let e = format!("there is already a channel {}; edit it from its page instead", channel.name);
        return refused(state, headers, f, editing, e).await;
    }
    if let Err(e) = state.engine.put_connection_with(&channel, secret, credentials).await {
        let api: ApiError = e.into();
        if api.status() != StatusCode::UNPROCESSABLE_ENTITY {
            return Err(api_page(api));
        }
        return refused(state, headers, f, editing, api.message).await;
    }
    let done = if editing { "saved" } else { "connected" };
    Ok(Redirect::to(&format!("/channels/{}?done={done}", url_component(channel.name.as_str()))).into_response())
}

/// The form again, as sent but for the secrets, with what is wrong (422).
async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    mut f: ChannelForm,
    editing: bool,
    error: String,
) -> Result<Response, PageError> {
    let nav = nav(state, headers, "channels").await?;
    let (stored, secret_set) = match ChannelName::parse(&f.name) {
        Ok(name) if editing => {
            let secret = state.engine.channel_connection(&name).await?.and_then(|(_, s)| s);
            (state.engine.credential_names(&name).await?, secret.is_some())
        }
        _ => (Vec::new(), false),
    };
    // Secrets typed in are never written into a page.
    (f.webhook_secret, f.other_credential) = (String::new(), String::new());
    f.rest.clear();
    let error = format!("{error}. Nothing was saved; type any credentials again.");
    let page = form_page(nav, f, editing, &stored, secret_set, Some(error))?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(settings: &str, rest: &[(&str, &str)]) -> ChannelForm {
        let mut f = ChannelForm::blank();
        f.settings = settings.into();
        f.rest = rest.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        f
    }

    #[test]
    fn settings_are_key_value_lines_and_blank_credentials_are_kept() {
        let body = form("shop = demo\n\n# comment\nlocation_id=42\n", &[]).body().expect("body");
        let want: BTreeMap<String, String> =
            [("location_id", "42"), ("shop", "demo")].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        assert_eq!(body.settings, want);
        assert_eq!(form("shop\n", &[]).body().err().as_deref(), Some("settings, line 1: \"shop\" is not key=value"));
        assert!(form("a=1\na=2", &[]).body().is_err_and(|e| e.contains("set twice")));

        let f = form("", &[("credential.client_id", " id "), ("credential.refresh_token", ""), ("remove.old", "1")]);
        let CredentialChange::Update { set, remove } = f.credentials().expect("credentials") else {
            panic!("an update")
        };
        assert_eq!(set.into_iter().collect::<Vec<_>>(), vec![("client_id".to_owned(), "id".to_owned())]);
        assert_eq!(remove.into_iter().collect::<Vec<_>>(), vec!["old".to_owned()]);
    }
}
