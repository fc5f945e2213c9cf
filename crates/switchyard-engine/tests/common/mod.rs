//! What the engine's test files share: `both!` (one test per backend, each
//! over a fresh database opened by the file's own `open`), identifiers, an
//! order builder and the audit check.
#![allow(dead_code)]

use switchyard_core::{
    ChannelName, Currency, ExternalOrderId, LocationCode, NewLine, NewOrder, PaymentState, Quantity, ServiceLevel,
    ShipTo, Sku,
};
use switchyard_engine::Engine;

/// Generates one test per backend from `async fn name(t: T)`; the calling
/// file provides `async fn open(&TestDb) -> T`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = TestDb::fresh(Backend::Sqlite).await.expect("sqlite always runs");
                super::$name(open(&db).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = TestDb::fresh(Backend::Postgres).await else { return };
                super::$name(open(&db).await).await;
            }
        }
    )*};
}

/// An engine with the manual clock it runs on (tests advance the clock
/// instead of sleeping); derefs to the engine.
pub struct Clocked {
    pub e: std::sync::Arc<Engine>,
    pub clock: std::sync::Arc<switchyard_engine::ManualClock>,
}

impl std::ops::Deref for Clocked {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.e
    }
}

pub fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("sku")
}

pub fn loc(s: &str) -> LocationCode {
    LocationCode::parse(s).expect("location")
}

/// A deliverable address.
pub fn portland() -> ShipTo {
    ShipTo {
        name: "N".into(),
        line1: "1 Oak St".into(),
        city: "Portland".into(),
        region: "OR".into(),
        postal_code: "97205".into(),
        country: "US".into(),
        ..Default::default()
    }
}

/// A standard order from channel `web` in USD: `(sku, units)` lines at
/// `unit_price` each, with the order value `total_minor`.
pub fn web_order(
    ext: &str,
    lines: &[(&str, i64)],
    unit_price: i64,
    total_minor: i64,
    payment: PaymentState,
) -> NewOrder {
    NewOrder {
        channel: ChannelName::parse("web").expect("channel"),
        external_id: ExternalOrderId::parse(ext).expect("ext"),
        currency: Currency::parse("USD").expect("usd"),
        lines: lines
            .iter()
            .map(|(s, q)| NewLine { sku: sku(s), quantity: Quantity::new(*q).expect("qty"), unit_price })
            .collect(),
        ship_to: portland(),
        service_level: ServiceLevel::Standard,
        pickup_location: None,
        payment,
        total_minor,
        email: None,
    }
}

/// A live Shopify connection named `shop`: stock-level messages are written
/// only while some connection is told stock levels.
pub async fn live_channel(e: &Engine) {
    let mut c = switchyard_core::Channel::new(ChannelName::parse("shop").expect("channel"));
    (c.kind, c.mode) = (switchyard_core::ChannelKind::Shopify, switchyard_core::SyncMode::Live);
    e.put_channel(&c).await.expect("channel");
}

pub async fn assert_clean(e: &Engine) {
    let report = e.audit().await.expect("audit");
    assert!(report.is_clean(), "audit drift: {:?}", report.drift);
}
