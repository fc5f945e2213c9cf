//! Locations, SKUs (and bundles) and channels: the rules for changing them.

use switchyard_core::{Channel, Location, SkuDef};
use switchyard_store::{catalog, Tx};

use crate::Error;

pub(crate) async fn put_location(tx: &mut Tx, l: &Location, now_ms: i64) -> Result<(), Error> {
    catalog::upsert_location(tx, l, now_ms).await?;
    Ok(())
}

pub(crate) async fn put_channel(tx: &mut Tx, c: &Channel, now_ms: i64) -> Result<(), Error> {
    catalog::upsert_channel(tx, c, now_ms).await?;
    Ok(())
}

/// Creates or replaces a SKU. A bundle's components must exist and must not
/// be bundles; a SKU holding stock, or one that is a component, cannot
/// become a bundle.
pub(crate) async fn put_sku(tx: &mut Tx, def: &SkuDef, now_ms: i64) -> Result<(), Error> {
    for c in &def.components {
        if c.sku == def.sku {
            return Err(Error::Conflict(format!("bundle {} cannot contain itself", def.sku)));
        }
        match catalog::sku_is_bundle(tx, &c.sku).await? {
            None => return Err(Error::UnknownSku(c.sku.to_string())),
            Some(true) => {
                return Err(Error::Conflict(format!("component {} is itself a bundle; bundles may not nest", c.sku)))
            }
            Some(false) => {}
        }
    }
    if def.is_bundle() {
        if catalog::sku_holds_stock(tx, &def.sku).await? {
            return Err(Error::Conflict(format!("{} holds stock of its own and cannot become a bundle", def.sku)));
        }
        if catalog::sku_is_component(tx, &def.sku).await? {
            return Err(Error::Conflict(format!(
                "{} is a component of another bundle and cannot become a bundle",
                def.sku
            )));
        }
    }
    catalog::upsert_sku(tx, def, now_ms).await?;
    Ok(())
}
