//! Routing policy versions: save, activate, roll back, shadow, preview.
//! Every version is validated here before it is saved or made active, so
//! no caller can put a policy that does not parse in force.

use std::sync::Arc;

use switchyard_core::routing::{route, Policy};
use switchyard_core::NewOrder;
use switchyard_store::{rfc3339, routing, DecisionView, Tx};

use crate::allocate::{build_input, policies_in_force, Facts, Want};
use crate::{Ctx, Error, StoreError};

/// Saves a policy text as a new, inactive version; returns the version.
pub(crate) async fn save(tx: &mut Tx, body: &str, note: &str, by: &str, now_ms: i64) -> Result<i64, Error> {
    Policy::from_toml(body)?;
    let version = routing::insert_policy(tx, body, note, by, now_ms).await?;
    routing::log_policy(tx, Some(version), "save", by, now_ms).await?;
    Ok(version)
}

/// Makes `version` the one active policy, after validating it again.
pub(crate) async fn activate(tx: &mut Tx, version: i64, by: &str, now_ms: i64) -> Result<(), Error> {
    let body = routing::lock_policy_body(tx, version)
        .await?
        .ok_or_else(|| Error::NotFound { what: "policy", key: version.to_string() })?;
    Policy::from_toml(&body)?;
    stop_shadowing(tx, version, by, now_ms).await?;
    routing::set_active(tx, Some(version), now_ms).await?;
    routing::log_policy(tx, Some(version), "activate", by, now_ms).await?;
    Ok(())
}

/// A version that becomes active stops running in shadow: one version is
/// never both.
async fn stop_shadowing(tx: &mut Tx, version: i64, by: &str, now_ms: i64) -> Result<(), Error> {
    let shadowed = routing::in_force(tx).await?.iter().any(|(v, active)| *v == version && !active);
    if shadowed {
        routing::set_shadow(tx, None).await?;
        routing::log_policy(tx, None, "shadow_stop", by, now_ms).await?;
    }
    Ok(())
}

/// Re-activates the version active before the current one (`None`: the
/// built-in default); returns it.
pub(crate) async fn rollback(tx: &mut Tx, by: &str, now_ms: i64) -> Result<Option<i64>, Error> {
    // The activation history, newest first: the current one, then the one
    // to go back to.
    let history = routing::activation_history(tx, 2).await?;
    if history.is_empty() {
        return Err(Error::Conflict("no policy has been activated; nothing to roll back".into()));
    }
    let previous = history.get(1).copied().flatten();
    if let Some(v) = previous {
        stop_shadowing(tx, v, by, now_ms).await?;
        let body = routing::lock_policy_body(tx, v)
            .await?
            .ok_or_else(|| Error::NotFound { what: "policy", key: v.to_string() })?;
        Policy::from_toml(&body)?;
    }
    routing::set_active(tx, previous, now_ms).await?;
    routing::log_policy(tx, previous, "rollback", by, now_ms).await?;
    Ok(previous)
}

/// Runs `version` in shadow beside the active one, or stops shadowing.
pub(crate) async fn shadow(tx: &mut Tx, version: Option<i64>, by: &str, now_ms: i64) -> Result<(), Error> {
    if let Some(v) = version {
        let body = routing::lock_policy_body(tx, v)
            .await?
            .ok_or_else(|| Error::NotFound { what: "policy", key: v.to_string() })?;
        Policy::from_toml(&body)?;
        if routing::in_force(tx).await?.iter().any(|(active, is_active)| *active == v && *is_active) {
            return Err(Error::Conflict(format!("version {v} is the active policy; it cannot also run in shadow")));
        }
    }
    if !routing::set_shadow(tx, version).await? {
        return Err(Error::NotFound { what: "policy", key: version.map_or_else(String::new, |v| v.to_string()) });
    }
    let action = if version.is_some() { "shadow_start" } else { "shadow_stop" };
    routing::log_policy(tx, version, action, by, now_ms).await?;
    Ok(())
}

/// Routes an order without reserving or writing anything, with a draft
/// policy or (when `None`) the active one.
pub(crate) async fn preview(
    tx: &mut Tx,
    ctx: &Ctx,
    o: &NewOrder,
    draft: Option<&Policy>,
    now_ms: i64,
) -> Result<DecisionView, Error> {
    let (version, policy) = match draft {
        Some(p) => (None, Arc::new(p.clone())),
        None => policies_in_force(tx, ctx).await?.0,
    };
    let wants: Vec<Want> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| Want { line_no: i as i64 + 1, sku: l.sku.clone(), units: l.quantity.as_i64() })
        .collect();
    let facts = Facts {
        channel: o.channel.clone(),
        value: switchyard_core::Money::new(o.total_minor, o.currency),
        ship_to: &o.ship_to,
        service_level: o.service_level,
        pickup_location: o.pickup_location.as_ref(),
        avoid: vec![],
        catalog: None,
        paid: false,
    };
    let with_counts = !policy.eligibility.daily_capacity.is_empty();
    let (input, _) = build_input(tx, ctx, &wants, &facts, false, with_counts, now_ms).await?;
    let decision = route(&input, &policy, now_ms);
    Ok(DecisionView {
        policy_version: version,
        shadow: false,
        outcome: decision.outcome.as_str().to_owned(),
        explanation: decision.explain(),
        trace: serde_json::to_value(&decision).map_err(|e| Error::Store(StoreError::corrupt(e)))?,
        at: rfc3339(now_ms),
    })
}
