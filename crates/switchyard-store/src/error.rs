//! The store's errors: only what can go wrong with the database itself.
//! Whether a request was a client's mistake is the engine's business.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A stored value cannot be read as what it must be (a hand-edited row,
    /// a bug): ours, never the client's.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database cannot be reached or has no free connection.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// A PostgreSQL deadlock or serialization failure: the transaction was
    /// rolled back and may be retried as a whole.
    #[error("transaction conflict: {0}")]
    Retryable(sqlx::Error),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// An error from the SQLite writer's connection.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// A write batch could not be committed (or its transaction failed):
    /// nothing of it was written; the request may be retried.
    #[error("the write was not committed: {0}")]
    CommitFailed(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => StoreError::Unavailable(e),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::ColumnNotFound(_) | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(e.to_string())
            }
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40P01" | "40001")) => {
                StoreError::Retryable(e)
            }
            _ => StoreError::Database(e),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..) => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

impl StoreError {
    /// A `Corrupt` error naming what could not be read.
    pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}
