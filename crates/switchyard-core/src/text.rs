//! Free text people and channels type — titles, names, reasons, notes —
//! parsed once at the boundary like identifiers are.
//!
//! Two rules hold for every text field: no control characters (a NUL is
//! refused by PostgreSQL and silently stored by SQLite; the rest break
//! exports and logs), and a bounded length, counted in characters (Unicode
//! scalar values), so a 1 MB title is not a title. Fields that may span
//! lines (reasons, notes, setting values) also allow tab, line feed and
//! carriage return. The limits are listed in the README.

use std::fmt;

/// SKU titles.
pub const MAX_TITLE_CHARS: usize = 200;
/// Location names, channel display names, the ship-to name, who acts (`by`).
pub const MAX_NAME_CHARS: usize = 100;
/// Address lines, city, region, postal code, country; time zones.
pub const MAX_ADDRESS_CHARS: usize = 200;
/// Shipment carrier and tracking number.
pub const MAX_CARRIER_CHARS: usize = 100;
/// Reasons given with a cancel, re-route, stock change or resolution.
pub const MAX_REASON_CHARS: usize = 1000;
/// Notes saved with a routing policy version.
pub const MAX_NOTE_CHARS: usize = 2000;
/// A channel setting's key.
pub const MAX_SETTING_KEY_CHARS: usize = 64;
/// A channel setting's value.
pub const MAX_SETTING_VALUE_CHARS: usize = 1000;

/// Why a text field was refused. Every message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} must not contain control characters such as NUL (found U+{code:04X})")]
    Control { field: &'static str, code: u32 },
}

/// How one kind of text field is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// The most characters it may have.
    pub max_chars: usize,
    /// Whether tab, line feed and carriage return are allowed.
    pub multiline: bool,
    /// Whether blank (empty or only whitespace) is refused.
    pub required: bool,
}

impl TextRule {
    pub const TITLE: TextRule = TextRule::line(MAX_TITLE_CHARS);
    pub const NAME: TextRule = TextRule::line(MAX_NAME_CHARS);
    pub const ADDRESS: TextRule = TextRule::line(MAX_ADDRESS_CHARS);
    pub const CARRIER: TextRule = TextRule::line(MAX_CARRIER_CHARS);
    pub const REASON: TextRule = TextRule::lines(MAX_REASON_CHARS);
    pub const NOTE: TextRule = TextRule::lines(MAX_NOTE_CHARS);
    pub const SETTING_KEY: TextRule = TextRule::line(MAX_SETTING_KEY_CHARS).required();
    pub const SETTING_VALUE: TextRule = TextRule::lines(MAX_SETTING_VALUE_CHARS);

    /// One line of at most `max_chars` characters; may be blank.
    pub const fn line(max_chars: usize) -> TextRule {
        TextRule { max_chars, multiline: false, required: false }
    }

    /// Several lines of at most `max_chars` characters; may be blank.
    pub const fn lines(max_chars: usize) -> TextRule {
        TextRule { max_chars, multiline: true, required: false }
    }

    /// The same rule, refusing blank text.
    pub const fn required(self) -> TextRule {
        TextRule { required: true, ..self }
    }
}

/// Text that passed its [`TextRule`]: kept exactly as given (not trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(String);

impl Text {
    /// Checks `raw` as the field named `field` (the name is what an error
    /// message says, e.g. `reason` or `ship_to.name`).
    pub fn parse(field: &'static str, raw: &str, rule: TextRule) -> Result<Text, TextError> {
        if let Some(c) = raw.chars().find(|c| c.is_control() && !(rule.multiline && matches!(c, '\t' | '\n' | '\r'))) {
            return Err(TextError::Control { field, code: u32::from(c) });
        }
        if raw.chars().count() > rule.max_chars {
            return Err(TextError::TooLong { field, max: rule.max_chars });
        }
        if rule.required && raw.trim().is_empty() {
            return Err(TextError::Empty { field });
        }
        Ok(Text(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `raw` as `field` and returns the checked string (for structs whose
/// field is a plain `String`).
pub fn checked(field: &'static str, raw: String, rule: TextRule) -> Result<String, TextError> {
    Text::parse(field, &raw, rule)?;
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_kept_as_given() {
        let t = Text::parse("title", "  Tee, é M  ", TextRule::TITLE).expect("valid");
        assert_eq!(t.as_str(), "  Tee, é M  ");
        assert!(Text::parse("reason", "two\nlines\tand a tab\r\n", TextRule::REASON).is_ok());
        assert_eq!(Text::parse("reason", "", TextRule::REASON), Ok(Text(String::new())));
    }

    #[test]
    fn a_nul_or_any_control_character_is_refused() {
        for (raw, code) in [("a\u{0}b", 0), ("\u{7}", 7), ("x\u{7f}", 0x7f), ("\u{85}", 0x85)] {
            assert_eq!(Text::parse("title", raw, TextRule::TITLE), Err(TextError::Control { field: "title", code }));
            assert_eq!(Text::parse("note", raw, TextRule::NOTE), Err(TextError::Control { field: "note", code }));
        }
        assert_eq!(
            Text::parse("name", "a\nb", TextRule::NAME),
            Err(TextError::Control { field: "name", code: 10 }),
            "a one-line field refuses a line break"
        );
        assert_eq!(
            TextError::Control { field: "reason", code: 0 }.to_string(),
            "reason must not contain control characters such as NUL (found U+0000)"
        );
    }

    #[test]
    fn lengths_are_counted_in_characters() {
        assert!(Text::parse("title", &"é".repeat(MAX_TITLE_CHARS), TextRule::TITLE).is_ok());
        assert_eq!(
            Text::parse("title", &"x".repeat(MAX_TITLE_CHARS + 1), TextRule::TITLE),
            Err(TextError::TooLong { field: "title", max: MAX_TITLE_CHARS })
        );
        assert_eq!(TextError::TooLong { field: "title", max: 200 }.to_string(), "title is longer than 200 characters");
    }

    #[test]
    fn a_required_field_refuses_blank_text() {
        assert_eq!(Text::parse("by", "  ", TextRule::NAME.required()), Err(TextError::Empty { field: "by" }));
        assert!(Text::parse("by", "ana", TextRule::NAME.required()).is_ok());
    }
}
