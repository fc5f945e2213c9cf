//! SKUs and bundle composition.

use serde::{Deserialize, Serialize};

use crate::ids::{Quantity, Sku};
use crate::intake::{IntakeError, MAX_COMPONENTS, MAX_TAGS, MAX_TAG_CHARS};
use crate::text::{checked, TextRule};

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

/// A SKU as an adapter received it (the API, a form, an import), before any
/// check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkuDraft {
    pub sku: String,
    pub title: String,
    /// (sku, quantity) of each component; empty for a plain SKU.
    pub components: Vec<(String, i64)>,
    pub tags: Vec<String>,
    pub allow_backorder: bool,
}

impl SkuDef {
    /// Checks a SKU draft: its code, title, components (each once) and tags
    /// (trimmed, 1–40 of letters, digits, `-`, `_`, `.`; repeats dropped).
    pub fn parse(d: SkuDraft) -> Result<SkuDef, IntakeError> {
        let sku = Sku::parse(&d.sku)?;
        let title = checked("title", d.title, TextRule::TITLE)?;
        if d.components.len() > MAX_COMPONENTS {
            return Err(IntakeError::TooManyComponents);
        }
        let mut components: Vec<Component> = Vec::with_capacity(d.components.len());
        for (c, q) in d.components {
            let component = Component { sku: Sku::parse(&c)?, quantity: Quantity::new(q)? };
            if components.iter().any(|x| x.sku == component.sku) {
                return Err(IntakeError::DuplicateComponent(component.sku));
            }
            components.push(component);
        }
        let mut tags: Vec<String> = Vec::new();
        for t in d.tags {
            let t = t.trim().to_owned();
            let well_formed = !t.is_empty()
                && t.chars().count() <= MAX_TAG_CHARS
                && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !well_formed {
                return Err(IntakeError::BadTag(t));
            }
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(IntakeError::TooManyTags);
        }
        Ok(SkuDef { sku, title, components, tags, allow_backorder: d.allow_backorder })
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> SkuDraft {
        SkuDraft {
            sku: "GIFT".into(),
            title: "Gift set".into(),
            components: vec![("MUG".into(), 1), ("CANDLE".into(), 2)],
            tags: vec![" gift ".into(), "gift".into(), "high-volume".into()],
            allow_backorder: true,
        }
    }

    #[test]
    fn a_sku_draft_is_parsed() {
        let d = SkuDef::parse(draft()).expect("valid");
        assert_eq!(d.sku.as_str(), "GIFT");
        assert!(d.is_bundle());
        assert_eq!(d.tags, vec!["gift".to_owned(), "high-volume".to_owned()]);
    }

    #[test]
    fn sku_rejections() {
        type Case = (&'static str, fn(&mut SkuDraft), &'static str, &'static str);
        let cases: &[Case] = &[
            (
                "nul in the title",
                |d| d.title = "Gift\u{0}".into(),
                "invalid_body",
                "title must not contain control characters such as NUL (found U+0000)",
            ),
            ("long title", |d| d.title = "x".repeat(201), "invalid_body", "title is longer than 200 characters"),
            (
                "component twice",
                |d| d.components.push(("MUG".into(), 3)),
                "invalid_body",
                "component MUG is listed twice",
            ),
            ("bad component quantity", |d| d.components[0].1 = 0, "invalid_quantity", "quantity must be at least 1"),
            (
                "bad tag",
                |d| d.tags.push("a b".into()),
                "invalid_body",
                "tag \"a b\" must be 1–40 letters, digits, - _ or .",
            ),
            (
                "too many tags",
                |d| d.tags = (0..21).map(|i| format!("t{i}")).collect(),
                "invalid_body",
                "at most 20 tags",
            ),
        ];
        for &(name, edit, code, message) in cases {
            let mut d = draft();
            edit(&mut d);
            let e = SkuDef::parse(d).expect_err(name);
            assert_eq!((e.code(), e.to_string().as_str()), (code, message), "{name}");
        }
    }
}
