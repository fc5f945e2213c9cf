//! The Inventory page: stocked SKUs by location (on hand, reserved,
//! available), searched by SKU prefix or title and paged with a keyset
//! cursor (the engine's `stock_page`: a page reads only its own rows, so it
//! stays fast with a large catalogue; a title search walks the SKUs until
//! the page is full). A search that could start a code looks at codes; when
//! none starts with it (or it could not start one), at titles. Each row can receive units (the
//! engine's `adjust_stock`) or record a cycle count (`set_stock`). A search
//! that is exactly a SKU, as a barcode scanner types it followed by Enter,
//! opens that SKU's own page with its actions per location.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_core::{LocationCode, Sku};
use switchyard_store::{StockFilter, StockRow, StockSearch};

use super::page::{check_csrf, nav, render, url_component, whole_number, Nav, PageError, PageForm, PageQuery};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory", get(inventory_page))
        .route("/inventory/item", get(item_page))
        .route("/inventory/stock", post(change_stock))
}

/// SKUs on one page.
const PAGE_SIZE: i64 = 50;
/// The longest search accepted (a title is at most 200 characters).
const MAX_SEARCH_CHARS: usize = 200;

struct Cell {
    present: bool,
    on_hand: i64,
    reserved: i64,
    available: i64,
}

struct GridRow {
    sku: String,
    sku_url: String,
    title: String,
    cells: Vec<Cell>,
    available: i64,
}

fn cells(locations: &[String], positions: &[StockRow]) -> Vec<Cell> {
    locations
        .iter()
        .map(|l| match positions.iter().find(|p| &p.location == l) {
            Some(p) => Cell { present: true, on_hand: p.on_hand, reserved: p.reserved, available: p.available },
            None => Cell { present: false, on_hand: 0, reserved: 0, available: 0 },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "inventory.html")]
struct InventoryPage {
    nav: Nav,
    q: String,
    /// What the search looked at: "" (everything), `sku` or `title`.
    by: &'static str,
    /// What the person chose in the form ("" for either), kept for the
    /// next search: a scan after a title search still looks at codes.
    chosen: &'static str,
    /// Set when a search found no code and looked in titles instead.
    note: Option<&'static str>,
    locations: Vec<String>,
    rows: Vec<GridRow>,
    /// Link to the next page, when one may follow.
    next: Option<String>,
    /// Link back to the first page, on a later page.
    first: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryQuery {
    q: Option<String>,
    /// `sku` (code prefix) or `title`; absent or empty: a code prefix when
    /// the search could start a code and some code does, else titles.
    by: Option<String>,
    after: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Sku,
    Title,
}

impl By {
    fn as_str(self) -> &'static str {
        match self {
            By::Sku => "sku",
            By::Title => "title",
        }
    }
}

async fn inventory_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(query): PageQuery<InventoryQuery>,
) -> Result<Response, PageError> {
    let nav = nav(&state, &headers, "inventory").await?;
    let q = query.q.unwrap_or_default().trim().to_owned();
    if q.chars().count() > MAX_SEARCH_CHARS {
        let problem = format!("a search is at most {MAX_SEARCH_CHARS} characters");
        return Err(PageError::Status(StatusCode::BAD_REQUEST, problem));
    }
    let chosen = match query.by.as_deref() {
        None | Some("") => None,
        Some("sku") => Some(By::Sku),
        Some("title") => Some(By::Title),
        Some(other) => {
            return Err(PageError::Status(StatusCode::BAD_REQUEST, format!("{other:?} is not sku or title")));
        }
    };
    let after = query.after.filter(|a| !a.is_empty()).map(|a| Sku::parse(&a)).transpose()?;
    let as_code = Sku::parse(&q).ok();
    // A scanned (or typed) SKU: straight to its page.
    if let (None, None | Some(By::Sku), Some(sku)) = (&after, chosen, &as_code) {
        if state.engine.get_sku(sku).await?.is_some_and(|def| !def.is_bundle()) {
            let to = format!("/inventory/item?sku={}", url_component(sku.as_str()));
            return Ok(Redirect::to(&to).into_response());
        }
    }
    let mut by = chosen.unwrap_or(if as_code.is_some() { By::Sku } else { By::Title });
    let search = |by: By| StockSearch {
        filter: match by {
            _ if q.is_empty() => StockFilter::All,
            By::Sku => StockFilter::CodePrefix(q.clone()),
            By::Title => StockFilter::TitleContains(q.clone()),
        },
        after: after.as_ref().map(|a| a.to_string()),
        limit: PAGE_SIZE,
    };
    let mut page = state.engine.stock_page(&search(by)).await?;
    let mut note = None;
    if chosen.is_none() && by == By::Sku && page.skus.is_empty() && after.is_none() && !q.is_empty() {
        // No code starts with it: most likely a word from a title.
        by = By::Title;
        page = state.engine.stock_page(&search(by)).await?;
        note = Some("No SKU code starts with this; these titles contain it.");
    }
    let locations: Vec<String> = state.engine.list_locations().await?.into_iter().map(|l| l.code.to_string()).collect();
    let rows = page
        .skus
        .into_iter()
        .map(|s| {
            let cells = cells(&locations, &s.positions);
            GridRow {
                available: cells.iter().map(|c| c.available).sum(),
                sku_url: url_component(&s.sku),
                sku: s.sku,
                title: s.title,
                cells,
            }
        })
        .collect();
    let by = if q.is_empty() { "" } else { by.as_str() };
    let first = format!("/inventory?q={}&by={by}", url_component(&q));
    let next = page.next_after.map(|a| format!("{first}&after={}", url_component(&a)));
    let first = after.is_some().then_some(first);
    let chosen = chosen.map_or("", By::as_str);
    Ok(render(InventoryPage { nav, q, by, chosen, note, locations, rows, next, first })?.into_response())
}

struct ItemRow {
    location: String,
    cell: Cell,
    safety_stock: i64,
}

#[derive(Template)]
#[template(path = "inventory_item.html")]
struct ItemPage {
    nav: Nav,
    sku: String,
    title: String,
    message: Option<&'static str>,
    rows: Vec<ItemRow>,
    available: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemQuery {
    sku: String,
    done: Option<Done>,
}

/// What the redirect after a change reports; the text is ours.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Done {
    Received,
    Counted,
}

async fn item_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ItemQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "inventory").await?;
    let sku = Sku::parse(&q.sku)?;
    let def = state
        .engine
        .get_sku(&sku)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("there is no SKU {sku}")))?;
    if def.is_bundle() {
        let problem = format!("{sku} is a bundle: it holds no stock of its own (receive and count its components)");
        return Err(PageError::Status(StatusCode::UNPROCESSABLE_ENTITY, problem));
    }
    let positions = state.engine.sku_positions(&sku).await?;
    let rows: Vec<ItemRow> = state
        .engine
        .list_locations()
        .await?
        .into_iter()
        .map(|l| {
            let p = positions.iter().find(|(code, _)| code == &l.code).map(|(_, p)| *p);
            ItemRow {
                location: l.code.to_string(),
                cell: match p {
                    Some(p) => {
                        Cell { present: true, on_hand: p.on_hand, reserved: p.reserved, available: p.available() }
                    }
                    None => Cell { present: false, on_hand: 0, reserved: 0, available: 0 },
                },
                safety_stock: p.map_or(0, |p| p.safety_stock),
            }
        })
        .collect();
    let message = q.done.map(|d| match d {
        Done::Received => "Units received.",
        Done::Counted => "Count saved.",
    });
    let available = rows.iter().map(|r| r.cell.available).sum();
    render(ItemPage { nav, sku: sku.to_string(), title: def.title, message, rows, available })
}

#[derive(Deserialize)]
struct StockForm {
    csrf: String,
    sku: String,
    location: String,
    quantity: String,
    /// `receive` (add the quantity to on hand) or `count` (on hand is the
    /// quantity).
    action: String,
}

async fn change_stock(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<StockForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let sku = Sku::parse(&f.sku)?;
    let location = LocationCode::parse(&f.location)?;
    let bad = |problem: String| PageError::Status(StatusCode::UNPROCESSABLE_ENTITY, problem);
    let quantity: i64 = whole_number("quantity", &f.quantity).map_err(bad)?;
    let done = match f.action.as_str() {
        "receive" => {
            if quantity < 1 {
                return Err(bad(format!("receive at least 1 unit (got {quantity})")));
            }
            state.engine.adjust_stock(&sku, &location, quantity, "received (dashboard)").await?;
            "received"
        }
        "count" => {
            if quantity < 0 {
                return Err(bad(format!("a count is 0 or more (got {quantity})")));
            }
            state.engine.set_stock(&sku, &location, quantity, None, "cycle count (dashboard)").await?;
            "counted"
        }
        other => return Err(PageError::Status(StatusCode::BAD_REQUEST, format!("{other:?} is not receive or count"))),
    };
    Ok(Redirect::to(&format!("/inventory/item?sku={}&done={done}", url_component(sku.as_str()))).into_response())
}
