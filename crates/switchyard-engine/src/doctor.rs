//! Catalogue health: `switchyard doctor` and the dashboard's "Catalogue
//! health" panel. One read transaction gathers the facts (catalogue, stock
//! per SKU, what sold in the window, lines held for unknown SKUs, the
//! policies in force); `switchyard_core::doctor::check` decides what is wrong
//! and how to fix it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use switchyard_core::doctor::{check, CatalogueFacts, HealthReport};
use switchyard_core::metrics::DAY_MS;
use switchyard_core::{ExceptionKind, ExceptionStatus};
use switchyard_store::{catalog, health, views};

use crate::{Engine, Error};

/// The window "still sells" looks back over, unless told otherwise.
pub const DEFAULT_DOCTOR_DAYS: i64 = 30;
/// The longest window accepted.
pub const MAX_DOCTOR_DAYS: i64 = 366;

/// The last report made for a page, with its window and when (injected
/// time) it was made.
#[derive(Default)]
pub(crate) struct HealthCache {
    last: Mutex<Option<(i64, i64, HealthReport)>>,
}

impl HealthCache {
    pub(crate) fn forget(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = None;
        }
    }
}

impl Engine {
    /// The catalogue health report: SKUs sold in the last `window_days`
    /// (1 to [`MAX_DOCTOR_DAYS`]) count as still selling.
    pub async fn doctor(&self, window_days: i64) -> Result<HealthReport, Error> {
        if !(1..=MAX_DOCTOR_DAYS).contains(&window_days) {
            return Err(Error::Invalid(format!("days must be from 1 to {MAX_DOCTOR_DAYS} (got {window_days})")));
        }
        let since = self.now_ms().saturating_sub(window_days.saturating_mul(DAY_MS));
        let mut tx = self.read().await?;
        let skus = catalog::list_skus(&mut tx).await?;
        let locations = catalog::list_locations(&mut tx).await?;
        let on_hand: BTreeMap<String, i64> = health::on_hand_by_sku(&mut tx).await?.into_iter().collect();
        let recently_ordered = health::ordered_since(&mut tx, since).await?;
        let held =
            health::held_unknown_lines(&mut tx, ExceptionKind::UnknownSku.as_str(), ExceptionStatus::Open.as_str())
                .await?;
        let mut policies = Vec::new();
        if let Some(p) = views::active_policy(&mut tx).await? {
            policies.push((format!("active policy v{}", p.version), p.body));
        }
        if let Some(p) = views::shadow_policy(&mut tx).await? {
            policies.push((format!("shadow policy v{}", p.version), p.body));
        }
        tx.rollback().await?;
        Ok(check(&CatalogueFacts { skus, locations, on_hand, recently_ordered, window_days, held, policies }))
    }

    /// [`Engine::doctor`] for a page shown on every load (the check reads
    /// the whole catalogue: over a second on 100,000 SKUs): the report made
    /// at most `max_age_ms` ago for the same window is reused. Returns the
    /// report and when it was made.
    pub async fn doctor_recent(&self, window_days: i64, max_age_ms: i64) -> Result<(HealthReport, i64), Error> {
        let now = self.now_ms();
        if let Ok(last) = self.health.last.lock() {
            if let Some((days, at, report)) = last.as_ref() {
                if *days == window_days && (0..=max_age_ms).contains(&(now - at)) {
                    return Ok((report.clone(), *at));
                }
            }
        }
        let report = self.doctor(window_days).await?;
        if let Ok(mut last) = self.health.last.lock() {
            *last = Some((window_days, now, report.clone()));
        }
        Ok((report, now))
    }
}
