//! Return data over a period (issue 9, item 8): the store's counts read in
//! one read transaction, added up by the core (`core::returns::stats`:
//! reasons by SKU and channel over the returns requested in the period,
//! the return rate per SKU over the orders received in it, the turnaround
//! of the returns refunded in it).

use switchyard_core::metrics::Period;
use switchyard_core::returns::{ReturnStats, StatsInput};
use switchyard_store::return_stats::{self, Range};

use crate::{Engine, Error};

impl Engine {
    /// The return data of `period`.
    pub async fn return_stats(&self, period: Period) -> Result<ReturnStats, Error> {
        let range = Range { from_ms: period.from_ms(), to_ms: period.to_ms() };
        let mut tx = self.read().await?;
        let input = StatsInput {
            by_sku: return_stats::reasons_by_sku(&mut tx, range).await?,
            by_channel: return_stats::reasons_by_channel(&mut tx, range).await?,
            requested: return_stats::requested(&mut tx, range).await?,
            shipped: return_stats::shipped_by_sku(&mut tx, range).await?,
            returned: return_stats::returned_by_sku(&mut tx, range).await?,
            turnaround_ms: return_stats::turnarounds(&mut tx, range).await?,
        };
        tx.rollback().await?;
        Ok(input.report())
    }
}
