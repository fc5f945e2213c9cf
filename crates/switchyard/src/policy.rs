//! `switchyard policy validate|show|activate|rollback`: routing policies
//! from the command line. Errors name the file's line and the field.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use switchyard_core::routing::Policy;
use switchyard_core::LocationCode;

use switchyard_engine::Engine;

use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum PolicyCommand {
    /// Check a policy file; with --db also that every location and tag it
    /// names exists. Exit 1 with line-numbered errors when it is invalid.
    Validate {
        file: PathBuf,
        #[arg(long)]
        db: Option<String>,
    },
    /// Print the policy in force (TOML) and its version.
    Show {
        #[arg(long)]
        db: Option<String>,
    },
    /// Validate a policy file, save it as a new version and make it active.
    Activate {
        file: PathBuf,
        #[arg(long)]
        db: Option<String>,
        /// Why (kept with the version).
        #[arg(long, default_value = "")]
        note: String,
        /// Who (logged).
        #[arg(long, default_value = "cli")]
        by: String,
    },
    /// Go back to the previously active version (or the built-in default).
    Rollback {
        #[arg(long)]
        db: Option<String>,
        #[arg(long, default_value = "cli")]
        by: String,
    },
}

impl PolicyCommand {
    pub fn db(&self) -> Option<&str> {
        match self {
            Self::Validate { db, .. } | Self::Show { db } | Self::Activate { db, .. } | Self::Rollback { db, .. } => {
                db.as_deref()
            }
        }
    }
}

fn read(file: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

async fn references(engine: &Engine) -> anyhow::Result<(Vec<LocationCode>, Vec<String>)> {
    let locations = engine.list_locations().await?.into_iter().map(|l| l.code).collect();
    let mut tags: Vec<String> = engine.list_skus().await?.into_iter().flat_map(|s| s.tags).collect();
    tags.sort();
    tags.dedup();
    Ok((locations, tags))
}

pub async fn run(cmd: PolicyCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Validate { file, db } => {
            let text = read(&file)?;
            let result = match db {
                Some(_) => {
                    let engine = settings.open_engine().await?;
                    let (locations, tags) = references(&engine).await?;
                    Policy::from_toml_validated(&text, &locations, &tags)
                }
                None => Policy::from_toml(&text),
            };
            match result {
                Ok(_) => {
                    println!("{}: valid", file.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    Ok(ExitCode::from(1))
                }
            }
        }
        PolicyCommand::Show { .. } => {
            let engine = settings.open_engine().await?;
            match engine.active_policy().await? {
                Some(p) => {
                    println!(
                        "# active policy version {} ({}), saved by {} at {}",
                        p.version, p.note, p.created_by, p.created_at
                    );
                    print!("{}", p.body);
                }
                None => {
                    println!("# no policy activated: the built-in default is in force");
                    print!("{}", Policy::default().to_toml()?);
                }
            }
            if let Some(s) = engine.shadow_policy().await? {
                println!("# version {} runs in shadow", s.version);
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Activate { file, note, by, .. } => {
            let text = read(&file)?;
            let engine = settings.open_engine().await?;
            let (locations, tags) = references(&engine).await?;
            if let Err(e) = Policy::from_toml_validated(&text, &locations, &tags) {
                eprintln!("{}: {e}", file.display());
                eprintln!("nothing was saved or activated");
                return Ok(ExitCode::from(1));
            }
            let saved = engine.save_policy(&text, &note, &by).await?;
            engine.activate_policy(saved.version, &by).await?;
            println!("policy version {} is now active", saved.version);
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Rollback { by, .. } => {
            let engine = settings.open_engine().await?;
            match engine.rollback_policy(&by).await {
                Ok(Some(p)) => println!("policy version {} is active again", p.version),
                Ok(None) => println!("the built-in default policy is in force again"),
                Err(switchyard_engine::Error::Conflict(msg)) => {
                    eprintln!("{msg}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
