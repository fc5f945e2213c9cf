//! `switchyard doctor`: the catalogue health report (`Engine::doctor`, the
//! checks are `switchyard_core::doctor`'s) — near-duplicate SKUs, SKUs with
//! no stock that still sell, locations without coordinates or with a bad
//! address, channel SKUs not mapped to ours, routing rules naming tags or
//! locations that no longer exist — each finding with its fix.
//!
//! Exit codes: 0 when nothing was found, 1 when anything was, 2 when the
//! report could not be made (no such database, a bad `--days`).

use std::process::ExitCode;

use clap::Args;
use switchyard_core::doctor::HealthReport;
use switchyard_engine::{DEFAULT_DOCTOR_DAYS, MAX_DOCTOR_DAYS};

use crate::settings::Settings;

#[derive(Args)]
pub struct DoctorArgs {
    /// SQLite file path or postgres:// URL.
    #[arg(long)]
    pub db: Option<String>,
    /// A SKU ordered in this many last days counts as still selling.
    #[arg(long, default_value_t = DEFAULT_DOCTOR_DAYS)]
    days: i64,
    /// Print JSON: {"clean", "window_days", "skus_checked", "locations_checked", "policies_checked",
    /// "findings": [{"kind", "subject", "problem", "fix"}]}.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: DoctorArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    if !(1..=MAX_DOCTOR_DAYS).contains(&args.days) {
        eprintln!("error: --days must be from 1 to {MAX_DOCTOR_DAYS} (got {})", args.days);
        return Ok(ExitCode::from(2));
    }
    let engine = match settings.open_engine().await {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let report = engine.doctor(args.days).await?;
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("clean".into(), serde_json::Value::Bool(report.is_clean()));
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", text(&report));
    }
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The report for people: one block per finding, then a summary line.
fn text(r: &HealthReport) -> String {
    let mut out = format!(
        "doctor: {} SKU(s), {} location(s), {} routing policy(ies) checked; selling = ordered in the last {} day(s)\n",
        r.skus_checked, r.locations_checked, r.policies_checked, r.window_days
    );
    for f in &r.findings {
        out.push_str(&format!("\n[{}] {}\n  problem: {}\n  fix: {}\n", f.kind.as_str(), f.subject, f.problem, f.fix));
    }
    if r.is_clean() {
        out.push_str("doctor: clean, nothing to fix\n");
    } else {
        out.push_str(&format!("\ndoctor: {} finding(s)\n", r.findings.len()));
    }
    out
}
