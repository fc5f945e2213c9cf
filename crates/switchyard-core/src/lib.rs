//! The pure heart of Switchyard: domain types and the decisions made on them.
//!
//! Nothing in this crate performs IO, spawns tasks or reads the clock: every
//! function takes the current time (`now_ms`, milliseconds since the Unix
//! epoch) as an argument when it needs one. That keeps every decision
//! replayable in tests and in the simulator, and lets the store crate apply
//! the very same rules inside a database transaction.

pub mod address;
pub mod allocation;
pub mod availability;
pub mod catalog;
pub mod channel;
pub mod doctor;
pub mod dropship;
pub mod exception;
pub mod field_path;
pub mod fulfilment;
pub mod ids;
pub mod intake;
pub mod inventory;
pub mod lifecycle;
pub mod location;
pub mod metrics;
pub mod money;
pub mod notification;
pub mod order;
pub mod outbox;
pub mod overview;
pub mod repeat;
pub mod returns;
pub mod roi;
pub mod routing;
pub mod simulate;
pub mod staff;
pub mod stock;
pub mod sync;
pub mod text;

pub use allocation::{allocate, AllocationPlan, AllocationRequest, Allocator, FewestLocations};
pub use catalog::{Component, SkuDef, SkuDraft};
pub use channel::{AtpBuffer, Channel, ChannelDraft, ChannelKind, SkuScope, SyncMode};
pub use exception::{ExceptionKind, ExceptionStatus, OwnerRole, ResolutionAction, Severity};
pub use ids::{ChannelName, ExternalOrderId, IdError, LocationCode, Quantity, Sku};
pub use intake::{
    web_link, ImportRow, IntakeError, LineDraft, NewLine, NewOrder, NewShipment, OrderDraft, Resolution,
    ResolutionDraft, ShipmentDraft,
};
pub use location::{Address, Location, LocationDraft, LocationKind};
pub use money::{Currency, Money, MoneyError};
pub use notification::{EmailAddress, NotificationEvent};
pub use order::{ExpiredAction, IllegalTransition, OrderStatus, PaymentState, ServiceLevel, ShipTo};
pub use returns::{
    decide, ItemCondition, RefundMethod, RestockingFee, ReturnDecision, ReturnLine, ReturnOutcome, ReturnPolicy,
    ReturnPolicyErrors, ReturnReason, ReturnRequest, ReturnRequestError, ShippingPayer,
};
pub use stock::{LedgerKind, Position, StockDelta, StockError};
pub use text::{Text, TextError, TextRule};
