//! Writing to and consuming the outbox: stock-level messages for the
//! channels and notifications, and the claim / acknowledge / retry /
//! dead-letter cycle their consumers run.

use std::collections::BTreeSet;

use switchyard_core::outbox::Message;
use switchyard_store::{outbox, Tx};

use crate::{Ctx, Error};

/// Queues one stock-level message per distinct SKU, when a connection is
/// told stock levels (nothing else reads them).
pub(crate) async fn atp_changed<'a>(
    tx: &mut Tx,
    ctx: &Ctx,
    skus: impl IntoIterator<Item = &'a str>,
    now_ms: i64,
) -> Result<(), Error> {
    if crate::allocate::catalog_view(tx, ctx).await?.pushes_stock() {
        enqueue_atp_changed(tx, skus, now_ms).await?;
    }
    Ok(())
}

/// [`atp_changed`] when the caller knows a connection is told stock levels.
pub(crate) async fn enqueue_atp_changed<'a>(
    tx: &mut Tx,
    skus: impl IntoIterator<Item = &'a str>,
    now_ms: i64,
) -> Result<(), Error> {
    let skus: BTreeSet<&str> = skus.into_iter().collect();
    for sku in skus {
        outbox::enqueue(tx, &Message::AtpChanged { sku: sku.to_owned() }, now_ms).await?;
    }
    Ok(())
}

/// How a consumer retries: the delay doubles from `first_retry_ms` up to
/// `max_retry_ms`; after `max_attempts` deliveries a message is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first_retry_ms: i64,
    pub max_retry_ms: i64,
    pub max_attempts: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { first_retry_ms: 1_000, max_retry_ms: 600_000, max_attempts: 10 }
    }
}

impl RetryPolicy {
    /// When to try again after the `attempts`-th failure, or `None`: dead.
    pub fn next_attempt(&self, attempts: i64, now_ms: i64) -> Option<i64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let shift = u32::try_from(attempts.clamp(1, 40) - 1).unwrap_or(0);
        let delay = self.first_retry_ms.saturating_mul(1_i64 << shift.min(40)).min(self.max_retry_ms);
        Some(now_ms.saturating_add(delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_give_up() {
        let p = RetryPolicy { first_retry_ms: 100, max_retry_ms: 1_000, max_attempts: 5 };
        assert_eq!(p.next_attempt(1, 0), Some(100));
        assert_eq!(p.next_attempt(2, 0), Some(200));
        assert_eq!(p.next_attempt(4, 10), Some(810));
        assert_eq!(p.next_attempt(5, 0), None);
        let big = RetryPolicy { max_attempts: 1000, ..p };
        assert_eq!(big.next_attempt(900, 0), Some(1_000));
    }
}
