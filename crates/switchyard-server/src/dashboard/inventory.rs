//! The Inventory page: stocked SKUs by location (on hand, reserved,
//! available), searched by SKU prefix or title and paged with a keyset
//! cursor (the engine's `stock_page`: a page reads only its own rows, so it
//! stays fast with a large catalogue). Each row can receive units (the
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
use switchyard_store::{StockRow, StockSearch};

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
    q_url: String,
    locations: Vec<String>,
    rows: Vec<GridRow>,
    /// Link to the next page, when one may follow.
    next: Option<String>,
    /// Whether this is a later page (a link back to the first).
    paged: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryQuery {
    q: Option<String>,
    after: Option<String>,
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
    let after = query.after.filter(|a| !a.is_empty()).map(|a| Sku::parse(&a)).transpose()?;
    // A scanned (or typed) SKU: straight to its page.
    if after.is_none() {
        if let Ok(sku) = Sku::parse(&q) {
            if state.engine.get_sku(&sku).await?.is_some_and(|def| !def.is_bundle()) {
                let to = format!("/inventory/item?sku={}", url_component(sku.as_str()));
                return Ok(Redirect::to(&to).into_response());
            }
        }
    }
    let locations: Vec<String> = state.engine.list_locations().await?.into_iter().map(|l| l.code.to_string()).collect();
    let search = StockSearch { text: q.clone(), after: after.as_ref().map(|a| a.to_string()), limit: PAGE_SIZE };
    let page = state.engine.stock_page(&search).await?;
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
    let q_url = url_component(&q);
    let next = page.next_after.map(|a| format!("/inventory?q={q_url}&after={}", url_component(&a)));
    Ok(render(InventoryPage { nav, q, q_url, locations, rows, next, paged: after.is_some() })?.into_response())
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
