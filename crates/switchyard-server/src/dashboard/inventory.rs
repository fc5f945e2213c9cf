//! The Inventory page: a grid of SKUs by location (on hand, reserved,
//! available), bundles left out since they hold no stock of their own.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use switchyard_store::StockRow;

use super::page::{nav, render, Nav, PageError};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/inventory", get(inventory_page))
}

struct Cell {
    present: bool,
    on_hand: i64,
    reserved: i64,
    available: i64,
}

struct GridRow {
    sku: String,
    title: String,
    cells: Vec<Cell>,
    available: i64,
}

#[derive(Template)]
#[template(path = "inventory.html")]
struct InventoryPage {
    nav: Nav,
    locations: Vec<String>,
    rows: Vec<GridRow>,
}

async fn inventory_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "inventory").await?;
    let locations: Vec<String> = state.engine.list_locations().await?.into_iter().map(|l| l.code.to_string()).collect();
    let skus = state.engine.list_skus().await?;
    let mut positions: BTreeMap<(String, String), StockRow> = BTreeMap::new();
    for p in state.engine.all_positions().await? {
        positions.insert((p.sku.clone(), p.location.clone()), p);
    }
    let rows = skus
        .into_iter()
        .filter(|s| !s.is_bundle())
        .map(|s| {
            let sku = s.sku.to_string();
            let cells: Vec<Cell> = locations
                .iter()
                .map(|l| match positions.get(&(sku.clone(), l.clone())) {
                    Some(p) => Cell { present: true, on_hand: p.on_hand, reserved: p.reserved, available: p.available },
                    None => Cell { present: false, on_hand: 0, reserved: 0, available: 0 },
                })
                .collect();
            GridRow { available: cells.iter().map(|c| c.available).sum(), sku, title: s.title, cells }
        })
        .collect();
    render(InventoryPage { nav, locations, rows })
}
