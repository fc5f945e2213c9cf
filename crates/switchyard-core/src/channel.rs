//! Sales channels: a name plus the settings that apply to its orders.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::ChannelName;

/// A channel (shopify, amazon, pos, ...). Orders may arrive from a channel
/// before anyone configures it; it is then registered with default settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub name: ChannelName,
    /// Free-form display name.
    pub display_name: String,
    /// Channel settings as string pairs (credentials are never stored here).
    pub settings: BTreeMap<String, String>,
    pub active: bool,
}

impl Channel {
    pub fn new(name: ChannelName) -> Self {
        Self { display_name: name.to_string(), name, settings: BTreeMap::new(), active: true }
    }
}
