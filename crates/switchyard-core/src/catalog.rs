//! SKUs and bundle composition.

use serde::{Deserialize, Serialize};

use crate::ids::{Quantity, Sku};

/// One component of a bundle: `quantity` units of `sku` per bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// A sellable SKU. With components it is a bundle (kit): it has no stock of
/// its own and reserves its components instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuDef {
    pub sku: Sku,
    pub title: String,
    pub components: Vec<Component>,
    /// Free-form labels routing rules refer to (e.g. `high-volume`).
    pub tags: Vec<String>,
    /// Whether an order may wait for this SKU when nothing can fill it.
    pub allow_backorder: bool,
}

impl SkuDef {
    /// A plain SKU: no components, no tags, backorders allowed.
    pub fn plain(sku: Sku, title: impl Into<String>) -> Self {
        Self { sku, title: title.into(), components: vec![], tags: vec![], allow_backorder: true }
    }

    pub fn is_bundle(&self) -> bool {
        !self.components.is_empty()
    }

    /// The stock-holding SKUs one unit of this SKU consumes, with how many of
    /// each: itself once for a plain SKU, its components for a bundle.
    pub fn stock_units(&self) -> Vec<(Sku, i64)> {
        if self.components.is_empty() {
            vec![(self.sku.clone(), 1)]
        } else {
            self.components.iter().map(|c| (c.sku.clone(), c.quantity.as_i64())).collect()
        }
    }
}
