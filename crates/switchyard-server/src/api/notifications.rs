//! `/notification-templates` and `/notification-deliveries`: the
//! merchant's templates of customer notifications (one per event; the
//! built-in default until edited; an edit is checked — it must parse and
//! render — before it is stored) and the log of every delivery (e-mail or
//! webhook) with its attempts and last error.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::notification::{DeliveryStatus, NotificationEvent};
use switchyard_engine::{Code, DeliveryFilter, DeliveryView, TemplateRecord, TemplateText};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{actor, Actor, ApiJson, ApiPath, ApiQuery};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(get_template, put_template))
        .routes(routes!(list_deliveries))
}

/// One event's template.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    /// `order_accepted`, `order_delayed`, `order_shipped`, `ready_for_pickup`, `order_cancelled`,
    /// `return_authorized`, `return_received` or `refund_issued`.
    pub event: String,
    /// minijinja; rendered as plain text on one line.
    pub subject: String,
    /// minijinja; plain text.
    pub text_body: String,
    /// minijinja with HTML autoescaping; when set, e-mails are
    /// multipart/alternative.
    pub html_body: Option<String>,
    /// False: the built-in default.
    pub customized: bool,
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
}

impl From<TemplateRecord> for TemplateView {
    fn from(r: TemplateRecord) -> Self {
        TemplateView {
            event: r.event.as_str().to_owned(),
            subject: r.template.subject,
            text_body: r.template.text_body,
            html_body: r.template.html_body,
            customized: r.customized,
            updated_by: r.updated_by,
            updated_at: r.updated_at.map(switchyard_store::rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<TemplateView>,
}

fn event_of(raw: &str) -> Result<NotificationEvent, ApiError> {
    NotificationEvent::parse(raw).ok_or_else(|| {
        let known: Vec<&str> = NotificationEvent::ALL.iter().map(|e| e.as_str()).collect();
        ApiError::not_found(format!("no notification event {raw:?} (one of: {})", known.join(", ")))
    })
}

/// Every event's template in force.
#[utoipa::path(get, path = "/notification-templates", tag = "notifications",
    responses((status = 200, body = TemplateList)))]
async fn list_templates(State(app): State<AppState>) -> Result<Json<TemplateList>, ApiError> {
    let mut templates = Vec::new();
    for e in NotificationEvent::ALL {
        templates.push(app.engine.get_template(e).await?.into());
    }
    Ok(Json(TemplateList { templates }))
}

/// One event's template in force (the default until edited).
#[utoipa::path(get, path = "/notification-templates/{event}", tag = "notifications",
    params(("event" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 404, body = ErrorBody)))]
async fn get_template(
    State(app): State<AppState>,
    ApiPath(event): ApiPath<String>,
) -> Result<Json<TemplateView>, ApiError> {
    Ok(Json(app.engine.get_template(event_of(&event)?).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub subject: String,
    pub text_body: String,
    /// Leave out (or blank) for text-only e-mails.
    #[serde(default)]
    pub html_body: Option<String>,
    /// Who edits; logged (`api` when left out).
    #[serde(default)]
    pub by: String,
}

/// Replace an event's template. It must parse and render against the
/// event's variables (see the README); otherwise 422 `invalid_template`
/// says where and why, and nothing changes. The next notification uses it.
#[utoipa::path(put, path = "/notification-templates/{event}", tag = "notifications",
    params(("event" = String, Path)), request_body = TemplateBody,
    responses((status = 200, body = TemplateView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn put_template(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(event): ApiPath<String>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<Json<TemplateView>, ApiError> {
    let event = event_of(&event)?;
    let t = TemplateText { subject: body.subject, text_body: body.text_body, html_body: body.html_body };
    Ok(Json(app.engine.put_template(event, &t, &actor(&who, &body.by)).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// Only this order's deliveries.
    pub order_id: Option<String>,
    /// `pending`, `retrying`, `sent` or `dead`.
    pub status: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Every delivery of a notification, newest first: event, channel
/// (`email`, `webhook`), recipient, status, attempts, last error, times.
#[utoipa::path(get, path = "/notification-deliveries", tag = "notifications", params(DeliveryParams),
    responses((status = 200, body = DeliveryList), (status = 400, body = ErrorBody)))]
async fn list_deliveries(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<DeliveryParams>,
) -> Result<Json<DeliveryList>, ApiError> {
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(
            DeliveryStatus::parse(s)
                .ok_or_else(|| ApiError::new(Code::InvalidQuery, format!("unknown delivery status {s:?}")))?,
        ),
    };
    let limit = switchyard_core::intake::page_limit(p.limit, 100, switchyard_core::intake::MAX_PAGE_LIMIT)?;
    let before = switchyard_core::intake::page_cursor(p.cursor)?;
    let filter = DeliveryFilter { order_id: p.order_id, status, before, limit };
    let deliveries = app.engine.list_deliveries(&filter).await?;
    let next_cursor = (deliveries.len() as i64 == limit).then(|| deliveries.last().map(|d| d.id.clone())).flatten();
    Ok(Json(DeliveryList { deliveries, next_cursor }))
}
