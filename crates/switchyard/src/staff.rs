//! `switchyard staff add|list|disable` and `switchyard token
//! create|list|revoke`: people and scoped API tokens from the command line.
//! A password comes from `SWITCHYARD_STAFF_PASSWORD` or the first line of
//! standard input, never from the arguments (`ps` and shell history keep
//! those); a token's secret is printed once and never stored.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use switchyard_engine::StaffDraft;

use crate::settings::Settings;

/// Where `staff add` reads the password when standard input is not used.
pub const PASSWORD_VAR: &str = "SWITCHYARD_STAFF_PASSWORD";

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Add a person. The password comes from SWITCHYARD_STAFF_PASSWORD or,
    /// when that is unset, the first line of standard input.
    Add {
        #[arg(long)]
        db: Option<String>,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// owner, ops or store.
        #[arg(long)]
        role: String,
        /// The location a store staff member works at (store only).
        #[arg(long)]
        location: Option<String>,
    },
    /// List the people (never their password hashes).
    List {
        #[arg(long)]
        db: Option<String>,
    },
    /// Disable a person (by id or e-mail): they cannot sign in, and their
    /// sessions end.
    Disable {
        #[arg(long)]
        db: Option<String>,
        who: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a scoped API token and print its secret (once).
    Create {
        #[arg(long)]
        db: Option<String>,
        #[arg(long)]
        name: String,
        /// owner, ops or store.
        #[arg(long)]
        role: String,
        /// The location of a store token (store only).
        #[arg(long)]
        location: Option<String>,
    },
    /// List the tokens (never their secrets).
    List {
        #[arg(long)]
        db: Option<String>,
    },
    /// Revoke a token by id: from now on it gets 401.
    Revoke {
        #[arg(long)]
        db: Option<String>,
        id: String,
    },
}

impl StaffCommand {
    pub fn db(&self) -> Option<&str> {
        match self {
            Self::Add { db, .. } | Self::List { db } | Self::Disable { db, .. } => db.as_deref(),
        }
    }
}

impl TokenCommand {
    pub fn db(&self) -> Option<&str> {
        match self {
            Self::Create { db, .. } | Self::List { db } | Self::Revoke { db, .. } => db.as_deref(),
        }
    }
}

/// The new password: the environment variable, else standard input's first
/// line (without its line ending).
fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(PASSWORD_VAR) {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

pub async fn run_staff(cmd: StaffCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    let engine = settings.open_engine().await?;
    match cmd {
        StaffCommand::Add { name, email, role, location, .. } => {
            let password = read_password()?;
            let made = engine.create_staff(StaffDraft { name, email, role, location, password }).await?;
            println!(
                "staff {}: {} <{}> ({}{})",
                made.id,
                made.name,
                made.email,
                made.role,
                at(made.location.as_deref())
            );
        }
        StaffCommand::List { .. } => {
            for s in engine.list_staff().await? {
                let state = if s.disabled_at.is_some() { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{}\t{}\t{state}", s.id, s.name, s.email, s.role, or_dash(s.location.as_deref()));
            }
        }
        StaffCommand::Disable { who, .. } => {
            let id = engine
                .list_staff()
                .await?
                .into_iter()
                .find(|s| s.id == who || s.email.eq_ignore_ascii_case(who.trim()))
                .map(|s| s.id)
                .with_context(|| format!("no staff member {who:?}"))?;
            let s = engine.disable_staff(&id).await?;
            println!("staff {}: {} disabled", s.id, s.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn at(location: Option<&str>) -> String {
    location.map(|l| format!(" at {l}")).unwrap_or_default()
}

pub async fn run_token(cmd: TokenCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    let engine = settings.open_engine().await?;
    match cmd {
        TokenCommand::Create { name, role, location, .. } => {
            let made = engine.create_token(&name, &role, location.as_deref()).await?;
            let t = &made.token;
            eprintln!(
                "token {}: {} ({}{}); the secret is shown this once:",
                t.id,
                t.name,
                t.role,
                at(t.location.as_deref())
            );
            println!("{}", made.secret);
        }
        TokenCommand::List { .. } => {
            for t in engine.list_tokens().await? {
                let state = if t.revoked_at.is_some() { "revoked" } else { "live" };
                let used = or_dash(t.last_used_at.as_deref());
                println!("{}\t{}\t{}\t{}\t{state}\t{used}", t.id, t.name, t.role, or_dash(t.location.as_deref()));
            }
        }
        TokenCommand::Revoke { id, .. } => {
            let t = engine.revoke_token(&id).await?;
            println!("token {}: {} revoked", t.id, t.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
