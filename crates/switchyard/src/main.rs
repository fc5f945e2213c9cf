//! The `switchyard` binary: one process for the API, the dashboard and the
//! background sweeper, plus the operator commands (audit, import, export,
//! bench, demo, policy, channel, roi, simulate, staff, token).

mod bench;
mod bench_channels;
mod channel;
mod demo;
mod doctor;
mod notify_settings;
mod policy;
mod roi;
mod settings;
mod simulate;
mod staff;
mod stockfile;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use settings::{Overrides, Settings};
use std::sync::Arc;

use switchyard_engine::return_carrier::HttpCarrier;
use switchyard_engine::{Config as EngineConfig, Engine, IdGen, SystemClock};
use switchyard_server::{AppState, ServerConfig};

#[derive(Parser)]
#[command(name = "switchyard", version, about = "Order orchestration for small multichannel retailers")]
struct Cli {
    /// A TOML file with settings (overridden by SWITCHYARD_* variables and flags).
    #[arg(long, global = true)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and dashboard.
    Serve {
        /// SQLite file path (default ./switchyard.db) or postgres:// URL.
        #[arg(long)]
        db: Option<String>,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
    },
    /// A seeded demo shop on a fresh embedded database, with orders flowing in.
    Demo {
        #[arg(long)]
        listen: Option<String>,
        /// Orders per minute the demo generates.
        #[arg(long, default_value_t = 30)]
        orders_per_minute: u32,
    },
    /// Recompute every position from the ledger; exit 1 on any drift.
    Audit {
        #[arg(long)]
        db: Option<String>,
    },
    /// Import SKUs and stock counts from a CSV file
    /// (header: sku,title,location,on_hand[,safety_stock]).
    Import {
        #[arg(long)]
        db: Option<String>,
        file: std::path::PathBuf,
    },
    /// Export stock positions as CSV.
    Export {
        #[arg(long)]
        db: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Catalogue health: near-duplicate SKUs, SKUs that sell with no stock, locations without
    /// coordinates or with a bad address, unmapped channel SKUs, rules naming what no longer
    /// exists; each with its fix. Exit 0 when clean, 1 with findings, 2 when it cannot run.
    Doctor(doctor::DoctorArgs),
    /// Load generator: concurrent clients post unique orders over HTTP.
    Bench(bench::BenchArgs),
    /// Routing policies: validate a file, show the one in force, activate a
    /// file, roll back.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Sales channels: connect, list, map SKUs, test; see what a payload becomes.
    #[command(subcommand)]
    Channel(channel::ChannelCommand),
    /// The cost of inaction: prevented cancellations, protected revenue,
    /// labour saved and payback months from your figures.
    Roi(Box<roi::RoiArgs>),
    /// Replay an order history against routing policies (the shop's database
    /// is only read): fill rate, splits, backorders, cancellations, distance.
    Simulate(simulate::SimulateArgs),
    /// Staff accounts: add a person (password from SWITCHYARD_STAFF_PASSWORD
    /// or standard input), list, disable.
    #[command(subcommand)]
    Staff(staff::StaffCommand),
    /// Scoped API tokens: create (the secret is printed once), list, revoke.
    #[command(subcommand)]
    Token(staff::TokenCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let load =
        |db: Option<String>, listen: Option<String>| Settings::load(cli.config.as_deref(), Overrides { db, listen });
    match cli.command {
        Command::Serve { db, listen } => {
            let settings = load(db, listen)?;
            init_logs(&settings.log);
            // serve creates the database (with its migrations) when it is new.
            let engine = settings.engine_at(&settings.db).await?;
            let (config, generated) = settings.server_config()?;
            let listener = tokio::net::TcpListener::bind(&settings.listen)
                .await
                .with_context(|| format!("listening on {}", settings.listen))?;
            let addr = listener.local_addr()?;
            println!("Switchyard serving http://{addr}/ (database: {})", engine.backend());
            if generated {
                println!(
                    "API token (generated; set SWITCHYARD_API_TOKEN to choose one): {}",
                    config.api_token.expose()
                );
            }
            switchyard_server::serve(listener, AppState::new(Arc::new(engine), config)).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { listen, orders_per_minute } => {
            let settings = load(None, listen)?;
            init_logs(&settings.log);
            demo::run(settings, orders_per_minute).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { db } => {
            let settings = load(db, None)?;
            let engine = settings.open_engine().await?;
            let report = engine.audit().await?;
            println!(
                "audit: {} positions, {} reservations, {} ledger entries checked",
                report.positions_checked, report.reservations_checked, report.ledger_entries
            );
            if report.is_clean() {
                println!("audit: clean, no drift");
                Ok(ExitCode::SUCCESS)
            } else {
                for d in &report.drift {
                    println!("drift: {d}");
                }
                println!("audit: {} problem(s) found", report.drift.len());
                Ok(ExitCode::from(1))
            }
        }
        Command::Import { db, file } => {
            let settings = load(db, None)?;
            stockfile::import(&settings, &file).await
        }
        Command::Export { db, out } => {
            let settings = load(db, None)?;
            stockfile::export(&settings, out.as_deref()).await
        }
        Command::Policy(cmd) => {
            let db = cmd.db().map(str::to_owned);
            let settings = load(db, None)?;
            policy::run(cmd, &settings).await
        }
        Command::Channel(channel::ChannelCommand::Parse { kind, file }) => channel::parse(&kind, &file),
        Command::Channel(cmd) => channel::run_on_db(cmd, cli.config.as_deref()).await,
        Command::Roi(args) => match args.db.clone() {
            Some(db) => {
                let settings = load(Some(db), None)?;
                roi::run(*args, Some(&settings)).await
            }
            None => roi::run(*args, None).await,
        },
        Command::Doctor(args) => {
            let settings = load(args.db.clone(), None)?;
            doctor::run(args, &settings).await
        }
        Command::Simulate(args) => {
            let settings = load(args.db.clone(), None)?;
            simulate::run(args, &settings).await
        }
        Command::Staff(cmd) => {
            let settings = load(cmd.db().map(str::to_owned), None)?;
            staff::run_staff(cmd, &settings).await
        }
        Command::Token(cmd) => {
            let settings = load(cmd.db().map(str::to_owned), None)?;
            staff::run_token(cmd, &settings).await
        }
        Command::Bench(args) => {
            let settings = load(args.db.clone(), None)?;
            bench::run(args, settings).await
        }
    }
}

/// Builds the server config, noting whether the token was generated.
impl Settings {
    /// The server's settings; a token that is set must be at least
    /// [`switchyard_server::MIN_TOKEN_CHARS`] characters (the error never
    /// repeats it).
    pub fn server_config(&self) -> anyhow::Result<(ServerConfig, bool)> {
        let (token, generated) = match &self.api_token {
            Some(t) if !t.is_empty() => (
                switchyard_server::ApiToken::parse(t).map_err(|e| anyhow::anyhow!("SWITCHYARD_API_TOKEN: {e}"))?,
                false,
            ),
            _ => (switchyard_server::ApiToken::new(settings::random_token()), true),
        };
        let mut config = ServerConfig::new(token);
        config.sweep_interval_ms = self.sweep_interval_ms;
        config.sync_tick_ms = self.sync_tick_ms;
        config.body_limit_bytes = self.body_limit_bytes;
        config.secure_cookies = self.secure_cookies;
        config.session_ttl_secs = self.session_ttl_secs;
        config.max_auth_failures = self.max_auth_failures;
        config.auth_failure_window_secs = self.auth_failure_window_secs;
        config.max_connections = self.max_connections;
        config.header_timeout_secs = self.header_timeout_secs;
        config.request_timeout_secs = self.request_timeout_secs;
        config.metrics_public = self.metrics_public;
        config.notify = self.notify.config(&self.listen)?;
        if let Some(name) = &self.notify.shop_name {
            config.shop_name = name.clone();
        }
        Ok((config, generated))
    }

    /// The engine over the configured database, which must exist (only
    /// `serve` and `demo` create one), on the wall clock.
    pub async fn open_engine(&self) -> anyhow::Result<Engine> {
        let is_url = self.db.starts_with("postgres://") || self.db.starts_with("postgresql://");
        let path = self.db.strip_prefix("sqlite://").unwrap_or(&self.db);
        anyhow::ensure!(is_url || std::path::Path::new(path).exists(), "no such database: {path}");
        self.engine_at(&self.db).await
    }

    /// The engine over `db`, on the wall clock, with these settings.
    pub async fn engine_at(&self, db: &str) -> anyhow::Result<Engine> {
        let config = EngineConfig {
            reservation_ttl_ms: i64::try_from(self.reservation_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            expired_action: self.expired_action,
            write_queue: self.write_queue,
            max_batch: self.max_batch,
            pg_writers: self.pg_writers,
        };
        let engine = Engine::open(db, config, Arc::new(SystemClock), IdGen::random())
            .await
            .with_context(|| format!("opening {db}"))?;
        Ok(match (&self.return_carrier_url, &self.return_carrier_api_key) {
            (Some(url), Some(key)) => {
                let carrier = HttpCarrier::new(url, &key.0).context("the return carrier")?;
                engine.with_return_carrier(Arc::new(carrier))
            }
            _ => engine,
        })
    }
}
