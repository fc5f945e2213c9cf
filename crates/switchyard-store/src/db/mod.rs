//! The one way SQL reaches a database: [`Db`] (the connections), [`Tx`] (a
//! transaction on either backend), [`Value`] (a bound parameter) and [`Row`]
//! (a result row read through typed getters).
//!
//! Every statement in this crate is written once, with `$1`-style
//! parameters, which both SQLite and PostgreSQL accept. What differs between
//! the backends is here and only here: how a writing transaction begins (one
//! SQLite writer with `BEGIN IMMEDIATE`; a PostgreSQL pool with row locks)
//! and the row-lock suffix ([`Tx::for_update`]).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Row as _, Sqlite, SqlitePool};

use crate::StoreError;

mod lite;

/// A bound parameter. Nulls are typed, because PostgreSQL infers parameter
/// types from them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    I64(Option<i64>),
    F64(Option<f64>),
    Text(Option<String>),
    Bool(bool),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::I64(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::I64(v)
    }
}
impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        Value::F64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}

/// `args![a, b, c]`: a parameter list for [`Tx::execute`] and friends.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { &[$($crate::db::Value::from($v)),*][..] };
}

/// `$start, $start+1, ...` for an IN list of `n` values.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The database: a SQLite file (reads from a pool; writes from the one
/// connection [`Db::sqlite_writer`] opens, owned by the engine's writer
/// thread) or a PostgreSQL pool.
#[derive(Clone)]
pub enum Db {
    Sqlite { path: String, read: SqlitePool },
    Postgres(PgPool),
}

impl Db {
    /// Opens what a `--db` value names: a `postgres://` URL or a SQLite file
    /// path (created if missing). Migrations are applied.
    pub async fn open(db: &str) -> Result<Db, StoreError> {
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            Self::postgres(db).await
        } else {
            Self::sqlite(db).await
        }
    }

    /// Opens an existing database for reading only (the simulator): no
    /// migrations, nothing created; a SQLite file is opened read-only (its
    /// journal mode untouched), so its bytes cannot change. Read with
    /// [`Db::snapshot`]; [`Db::sqlite_writer`] must not be called on it.
    pub async fn open_read_only(db: &str) -> Result<Db, StoreError> {
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(PgConnectOptions::from_str(db)?)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        let path = db.strip_prefix("sqlite://").unwrap_or(db);
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(10));
        let read = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite { path: path.to_owned(), read })
    }

    async fn sqlite(path: &str) -> Result<Db, StoreError> {
        let path = path.strip_prefix("sqlite://").unwrap_or(path);
        let base = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Migrations on a connection of their own, closed before the writer
        // opens: the file has one writer at a time.
        let migrate = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(base.clone().create_if_missing(true))
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&migrate).await?;
        migrate.close().await;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(base.read_only(true))
            .await?;
        Ok(Db::Sqlite { path: path.to_owned(), read })
    }

    async fn postgres(url: &str) -> Result<Db, StoreError> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(24)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Db::Postgres(pool))
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// The SQLite file's one writing connection (WAL, `synchronous=FULL`:
    /// a commit is on disk before it returns). `None` on PostgreSQL, whose
    /// writers take pool connections ([`Db::write`]).
    pub fn sqlite_writer(&self) -> Result<Option<rusqlite::Connection>, StoreError> {
        let Db::Sqlite { path, .. } = self else { return Ok(None) };
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // temp_store = MEMORY: each command's savepoint copies the pages it
        // changes to a sub-journal; in a temporary file that was a pwrite per page.
        // wal_autocheckpoint = 10000: checkpoints are the checkpointer's job
        // (`Db::sqlite_checkpointer`); this is only the backstop if it stops.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000;",
        )?;
        conn.set_prepared_statement_cache_capacity(256);
        Ok(Some(conn))
    }

    /// A connection for copying the WAL back into the database file
    /// (`PRAGMA wal_checkpoint(PASSIVE)`) beside the writer, so the writer
    /// never stalls on a checkpoint's writes and fsync. `None` on PostgreSQL.
    pub fn sqlite_checkpointer(&self) -> Result<Option<rusqlite::Connection>, StoreError> {
        let Db::Sqlite { path, .. } = self else { return Ok(None) };
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        Ok(Some(conn))
    }

    /// A writing transaction from the PostgreSQL pool. (SQLite writes go
    /// through [`Tx::begin_sqlite`] on the writer's own connection.)
    pub async fn write(&self) -> Result<Tx, StoreError> {
        match self {
            Db::Sqlite { .. } => Err(StoreError::corrupt("SQLite writes go through the writer connection")),
            Db::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    /// A reading transaction; it never waits on the writer.
    pub async fn read(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A consistent read-only snapshot of the whole database (the audit).
    pub async fn snapshot(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
            Db::Postgres(pool) => {
                Tx::Postgres(pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)
            }
        })
    }

    /// Succeeds when the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { read, .. } => sqlx::query("SELECT 1").execute(read).await.map(|_| ())?,
            Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ())?,
        }
        Ok(())
    }
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back
/// (the SQLite writer's rolls back when the connection is handed back).
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
    /// The SQLite writer's connection, inside `BEGIN IMMEDIATE`.
    Writer(Box<rusqlite::Connection>),
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn bind_sqlite<'q>(mut q: SqliteQuery<'q>, args: &'q [Value]) -> SqliteQuery<'q> {
    for v in args {
        q = match v {
            Value::I64(x) => q.bind(*x),
            Value::F64(x) => q.bind(*x),
            Value::Text(x) => q.bind(x.as_deref()),
            Value::Bool(x) => q.bind(*x),
        };
    }
    q
}

fn bind_pg<'q>(mut q: PgQuery<'q>, args: &'q [Value]) -> PgQuery<'q> {
    for v in args {
        q = match v {
            Value::I64(x) => q.bind(*x),
            Value::F64(x) => q.bind(*x),
            Value::Text(x) => q.bind(x.as_deref()),
            Value::Bool(x) => q.bind(*x),
        };
    }
    q
}

impl Tx {
    /// `" FOR UPDATE"` on PostgreSQL (row locks); nothing on SQLite, whose
    /// single writer already excludes every other writer.
    pub fn for_update(&self) -> &'static str {
        match self {
            Tx::Sqlite(_) | Tx::Writer(_) => "",
            Tx::Postgres(_) => " FOR UPDATE",
        }
    }

    /// `COLLATE "C"` on PostgreSQL, nothing on SQLite: compares text byte by
    /// byte, as SQLite's default collation already does, so an ordering and
    /// a range of codes (`>= 'TEE' AND < 'TEF'` is every code starting with
    /// `TEE`) mean the same on both backends whatever the database's locale.
    pub fn bytewise(&self) -> &'static str {
        match self {
            Tx::Sqlite(_) | Tx::Writer(_) => "",
            Tx::Postgres(_) => " COLLATE \"C\"",
        }
    }

    /// Starts a write transaction on the SQLite writer's connection. It
    /// holds the write lock from the start (`BEGIN IMMEDIATE`), so no
    /// statement inside meets `SQLITE_BUSY`.
    pub fn begin_sqlite(conn: rusqlite::Connection) -> Result<Tx, Box<(rusqlite::Connection, StoreError)>> {
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => Ok(Tx::Writer(Box::new(conn))),
            Err(e) => Err(Box::new((conn, e.into()))),
        }
    }

    /// Commits the writer's transaction and hands its connection back
    /// (rolled back if the commit failed).
    pub fn finish_sqlite(self, commit: bool) -> (Option<rusqlite::Connection>, Result<(), StoreError>) {
        let Tx::Writer(conn) = self else { return (None, Err(StoreError::corrupt("not the SQLite writer"))) };
        let result = conn.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" }).map_err(StoreError::from);
        if result.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        (Some(*conn), result)
    }

    /// Marks a point to roll back to: one command of a batch.
    pub async fn savepoint(&mut self) -> Result<(), StoreError> {
        self.execute("SAVEPOINT command", &[]).await.map(|_| ())
    }

    /// Keeps what the command wrote since [`Tx::savepoint`].
    pub async fn release(&mut self) -> Result<(), StoreError> {
        self.execute("RELEASE SAVEPOINT command", &[]).await.map(|_| ())
    }

    /// Undoes what the command wrote since [`Tx::savepoint`].
    pub async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.execute("ROLLBACK TO SAVEPOINT command", &[]).await?;
        self.release().await
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }

    /// Runs a statement; returns the rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Writer(conn) => lite::execute(conn, sql, args)?,
            Tx::Sqlite(tx) => bind_sqlite(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected(),
            Tx::Postgres(tx) => bind_pg(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected(),
        })
    }

    /// Every row of a query.
    pub async fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        Ok(match self {
            Tx::Writer(conn) => lite::query(conn, sql, args, usize::MAX)?.into_iter().map(Row::Writer).collect(),
            Tx::Sqlite(tx) => {
                bind_sqlite(sqlx::query(sql), args).fetch_all(&mut **tx).await?.into_iter().map(Row::Sqlite).collect()
            }
            Tx::Postgres(tx) => {
                bind_pg(sqlx::query(sql), args).fetch_all(&mut **tx).await?.into_iter().map(Row::Postgres).collect()
            }
        })
    }

    /// The first row, if any.
    pub async fn query_opt(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(match self {
            Tx::Writer(conn) => lite::query(conn, sql, args, 1)?.into_iter().next().map(Row::Writer),
            Tx::Sqlite(tx) => bind_sqlite(sqlx::query(sql), args).fetch_optional(&mut **tx).await?.map(Row::Sqlite),
            Tx::Postgres(tx) => bind_pg(sqlx::query(sql), args).fetch_optional(&mut **tx).await?.map(Row::Postgres),
        })
    }

    /// Exactly one row (an aggregate, say); none is corrupt data.
    pub async fn query_one(&mut self, sql: &str, args: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, args).await?.ok_or_else(|| StoreError::Corrupt(format!("no row from {sql:?}")))
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
            w @ Tx::Writer(_) => w.finish_sqlite(true).1?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
            w @ Tx::Writer(_) => w.finish_sqlite(false).1?,
        }
        Ok(())
    }
}

/// A result row. Getters name the column index and fail with
/// [`StoreError::Corrupt`] when the stored value has another type — never a
/// panic on what the database holds.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
    Writer(Vec<rusqlite::types::Value>),
}

macro_rules! getter {
    ($name:ident, $t:ty, $lite:path) => {
        pub fn $name(&self, i: usize) -> Result<$t, StoreError> {
            let r = match self {
                Row::Sqlite(r) => r.try_get::<$t, usize>(i),
                Row::Postgres(r) => r.try_get::<$t, usize>(i),
                Row::Writer(values) => return $lite(values.get(i), i),
            };
            r.map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
        }
    };
}

impl Row {
    getter!(i64, i64, lite::i64);
    getter!(opt_i64, Option<i64>, lite::opt_i64);
    getter!(string, String, lite::string);
    getter!(opt_string, Option<String>, lite::opt_string);
    getter!(bool, bool, lite::bool);
    getter!(opt_f64, Option<f64>, lite::opt_f64);
}
