//! The store's typed errors: the client's mistakes apart from our own.

use switchyard_core::{IllegalTransition, StockError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {key:?} was not found")]
    NotFound { what: &'static str, key: String },
    #[error("unknown sku {0:?}")]
    UnknownSku(String),
    #[error("unknown location {0:?}")]
    UnknownLocation(String),
    #[error(transparent)]
    Stock(#[from] StockError),
    #[error(transparent)]
    Transition(#[from] IllegalTransition),
    #[error("{0}")]
    ExceedsAllocation(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the address is not deliverable: {0}")]
    InvalidAddress(String),
    #[error("row {index}: {source}")]
    Row { index: usize, source: Box<StoreError> },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub(crate) fn at_row(self, index: usize) -> StoreError {
        StoreError::Row { index, source: Box::new(self) }
    }
}
