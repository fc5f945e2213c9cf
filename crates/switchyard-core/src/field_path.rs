//! Field paths in policy documents (`protection[1].keep_units`) and where
//! they sit in the TOML text they came from: shared by every policy parsed
//! from TOML (routing, returns) so their errors name places the same way.
//!
//! Line numbers are recovered by re-reading the TOML into a tree of key spans
//! (keys always carry spans in the `toml` crate, whereas some tables do not),
//! then mapping a field path to the span of its deepest key present.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

/// One step of a field path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// Where in the policy a problem is, e.g. `protection[1].keep_units`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<PathSegment>);

impl FieldPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }
    /// This path extended by a key.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Key(key.to_owned()));
        Self(segments)
    }
    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Index(index));
        Self(segments)
    }
    /// A path of plain keys, e.g. `["split", "max_shipments"]`.
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        Self(keys.into_iter().map(|k| PathSegment::Key(k.to_owned())).collect())
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(policy)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Index(n) => write!(f, "[{n}]")?,
                PathSegment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    // Location codes may contain dots; quote such keys as TOML does.
                    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// 1-based line and column (in characters) of a byte offset; offsets past
/// the end or inside a character are clamped rather than trusted.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Every key and array element of a TOML document with the byte offset where
/// it starts, in a flat list.
pub(crate) struct KeyIndex {
    entries: Vec<(usize, FieldPath)>,
}

impl KeyIndex {
    /// `None` when the text is not TOML at all (then the deserializer's own
    /// span is all there is).
    pub(crate) fn build(text: &str) -> Option<Self> {
        let tree: SpanNode = toml::from_str(text).ok()?;
        let mut entries = Vec::new();
        tree.flatten(&FieldPath::root(), &mut entries);
        Some(Self { entries })
    }

    /// The start of the deepest key or element on `path`: the field itself
    /// when present, otherwise the nearest enclosing one (a missing field is
    /// reported at its table).
    pub(crate) fn offset_of(&self, path: &FieldPath) -> Option<usize> {
        (0..=path.segments().len()).rev().find_map(|len| {
            let prefix = &path.segments()[..len];
            self.entries.iter().find(|(_, p)| p.segments() == prefix).map(|(offset, _)| *offset)
        })
    }

    /// The path of the key or element starting closest before `offset`: the
    /// field an error span points into. Ties go to the deeper path.
    pub(crate) fn path_at(&self, offset: usize) -> FieldPath {
        self.entries
            .iter()
            .filter(|(start, _)| *start <= offset)
            .max_by_key(|(start, path)| (*start, path.segments().len()))
            .map(|(_, path)| path.clone())
            .unwrap_or_default()
    }

    /// [`KeyIndex::path_at`] for the span of a deserializer error in `text`.
    /// A table's own error (a missing field) points at its `[header]`, before
    /// its keys, where `path_at` would name whatever came before: it names
    /// the header's deepest key instead.
    pub(crate) fn path_of_error(&self, text: &str, offset: usize) -> FieldPath {
        let line_start = text.get(..offset).map_or(0, |before| before.rfind('\n').map_or(0, |i| i + 1));
        let at_header = text.get(offset..).is_some_and(|rest| rest.starts_with('['))
            && text.get(line_start..offset).is_some_and(|indent| indent.trim().is_empty());
        if at_header {
            let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
            let header = self
                .entries
                .iter()
                .filter(|(start, _)| (offset..line_end).contains(start))
                .max_by_key(|(start, path)| (*start, path.segments().len()));
            if let Some((_, path)) = header {
                return path.clone();
            }
        }
        self.path_at(offset)
    }
}

/// A TOML value with the spans of its keys and array elements.
enum SpanNode {
    Table(Vec<(toml::Spanned<String>, SpanNode)>),
    Array(Vec<toml::Spanned<SpanNode>>),
    Leaf,
}

impl SpanNode {
    fn flatten(&self, path: &FieldPath, out: &mut Vec<(usize, FieldPath)>) {
        match self {
            SpanNode::Leaf => {}
            SpanNode::Table(entries) => {
                for (key, value) in entries {
                    let child = path.key(key.get_ref());
                    out.push((key.span().start, child.clone()));
                    value.flatten(&child, out);
                }
            }
            SpanNode::Array(elements) => {
                for (i, element) in elements.iter().enumerate() {
                    let child = path.index(i);
                    out.push((element.span().start, child.clone()));
                    element.get_ref().flatten(&child, out);
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for SpanNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = SpanNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any TOML value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SpanNode, E> {
                Ok(SpanNode::Leaf)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SpanNode, E> {
                Ok(SpanNode::Leaf)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SpanNode, E> {
                Ok(SpanNode::Leaf)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SpanNode, E> {
                Ok(SpanNode::Leaf)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<SpanNode, E> {
                Ok(SpanNode::Leaf)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SpanNode, A::Error> {
                let mut elements = Vec::new();
                while let Some(element) = seq.next_element()? {
                    elements.push(element);
                }
                Ok(SpanNode::Array(elements))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SpanNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(SpanNode::Table(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_safe_on_any_offset() {
        assert_eq!(line_and_column("", 10), (1, 1));
        assert_eq!(line_and_column("a\nbé\nc", 4), (2, 2));
        assert_eq!(line_and_column("a\nbé\nc", 5), (2, 3));
        assert_eq!(line_and_column("a\nbé\nc", 999), (3, 2));
    }
}
