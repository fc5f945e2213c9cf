//! The Import page: SKUs and counts pasted as CSV, the same file `switchyard
//! import` reads (the server's `stock_csv` parser). The whole text is
//! checked first and applied by the engine's `import_stock` in one
//! transaction: a bad line is shown with its number and nothing changes.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use switchyard_store::ImportSummary;

use super::page::{check_csrf, nav, render, Nav, PageError, PageForm};
use crate::stock_csv::{parse_rows, row_error};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/inventory/import", get(import_page).post(import))
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    nav: Nav,
    error: Option<String>,
    /// Rows read, and what the import did.
    done: Option<(usize, ImportSummary)>,
    csv: String,
}

async fn import_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "import").await?;
    render(ImportPage { nav, error: None, done: None, csv: String::new() })
}

#[derive(Deserialize)]
struct ImportForm {
    csrf: String,
    csv: String,
}

/// Checks and applies the pasted CSV. The answer is the page itself (the
/// summary, or the error with the text kept for fixing), not a redirect:
/// the summary's numbers are the server's, never read from a link.
async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<ImportForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let nav = nav(&state, &headers, "import").await?;
    let refuse = |nav: Nav, error: String, csv: String| -> Result<Response, PageError> {
        let error = format!("{error}. Nothing was imported.");
        let page = render(ImportPage { nav, error: Some(error), done: None, csv })?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let rows = match parse_rows(f.csv.as_bytes(), || {}) {
        Ok(rows) if rows.is_empty() => return refuse(nav, "the CSV has a header but no rows".into(), f.csv),
        Ok(rows) => rows,
        Err(e) => return refuse(nav, e, f.csv),
    };
    let count = rows.len();
    match state.engine.import_stock(rows).await {
        Ok(summary) => {
            Ok(render(ImportPage { nav, error: None, done: Some((count, summary)), csv: String::new() })?
                .into_response())
        }
        Err(e) => match row_error(&e) {
            Some(line_error) => refuse(nav, line_error, f.csv),
            None => Err(e.into()),
        },
    }
}
