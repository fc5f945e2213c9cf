//! What a customer starting a return alone may be shown and asked: the
//! plain-English words for each canonical reason, and the proof that the
//! person asking holds the order — its number as printed on their
//! confirmation (the channel's order number, with or without a leading
//! `#`, or our own order id) and the e-mail address or ship-to postal code
//! it carries.
//!
//! Pure rules: the engine reads the candidate orders and asks
//! [`contact_matches`]; a miss for any reason (no such order, wrong e-mail,
//! wrong postal code) is one answer, so the page never tells which orders
//! exist.

use super::policy::ReturnReason;

/// The longest order number or contact a customer may type.
pub const MAX_PROOF_CHARS: usize = 254;

impl ReturnReason {
    /// What a customer reads for the reason on the self-service page.
    pub fn label(self) -> &'static str {
        match self {
            ReturnReason::WrongSize => "It doesn't fit (wrong size)",
            ReturnReason::DamagedInTransit => "It arrived damaged",
            ReturnReason::Defective => "It is faulty or doesn't work",
            ReturnReason::NotAsDescribed => "It isn't as described",
            ReturnReason::WrongItem => "You sent the wrong item",
            ReturnReason::ChangedMind => "I changed my mind",
            ReturnReason::LateDelivery => "It arrived too late",
            ReturnReason::Other => "Another reason",
        }
    }
}

/// The stored spellings an order number the customer typed may match:
/// trimmed, and without a leading `#` (confirmations print `#1001`; the
/// channel may store `1001` or `#1001`). Empty or over-long input → none.
pub fn order_number_candidates(raw: &str) -> Vec<String> {
    let typed = raw.trim();
    if typed.is_empty() || typed.chars().count() > MAX_PROOF_CHARS || typed.chars().any(char::is_control) {
        return vec![];
    }
    let mut out = vec![typed.to_owned()];
    let bare = typed.trim_start_matches('#').trim();
    if !bare.is_empty() && bare != typed {
        out.push(bare.to_owned());
    } else if bare == typed {
        out.push(format!("#{typed}"));
    }
    out
}

/// A postal code compared without case, spaces or dashes.
fn postal_key(raw: &str) -> String {
    raw.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// Whether what the customer typed proves the order: an e-mail address
/// (anything with `@`) equal to the order's without regard to case, or a
/// postal code equal to the ship-to's without regard to case, spaces and
/// dashes — a US ZIP also matches its ZIP+4 (`97205` for `97205-1234`).
pub fn contact_matches(typed: &str, email: Option<&str>, postal_code: &str) -> bool {
    let typed = typed.trim();
    if typed.is_empty() || typed.chars().count() > MAX_PROOF_CHARS {
        return false;
    }
    if typed.contains('@') {
        return email.is_some_and(|e| e.trim().eq_ignore_ascii_case(typed));
    }
    let (given, stored) = (postal_key(typed), postal_key(postal_code));
    if given.is_empty() || stored.is_empty() {
        return false;
    }
    let zip_plus_4 = stored.len() == 9
        && given.len() == 5
        && stored.bytes().all(|b| b.is_ascii_digit())
        && stored.starts_with(&given);
    given == stored || zip_plus_4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_match_by_email_or_postal_code() {
        let cases = [
            ("ana@example.com", Some("Ana@Example.com"), "97205", true),
            (" ANA@example.com ", Some("ana@example.com"), "97205", true),
            ("ana@example.org", Some("ana@example.com"), "97205", false),
            ("ana@example.com", None, "97205", false),
            ("97205", None, "97205", true),
            ("97205", None, "97205-1234", true),
            ("97205-1234", None, "972051234", true),
            ("97206", None, "97205", false),
            ("9720", None, "97205", false),
            ("sw1a 1aa", None, "SW1A1AA", true),
            ("SW1A", None, "SW1A 1AA", false),
            ("", Some(""), "", false),
            ("--", None, "--", false),
        ];
        for (typed, email, postal, want) in cases {
            assert_eq!(contact_matches(typed, email, postal), want, "{typed:?} vs {email:?} / {postal:?}");
        }
        assert!(!contact_matches(&"9".repeat(300), None, &"9".repeat(300)), "over-long input never matches");
    }

    #[test]
    fn order_numbers_are_tried_with_and_without_the_hash() {
        assert_eq!(order_number_candidates(" #1001 "), vec!["#1001", "1001"]);
        assert_eq!(order_number_candidates("1001"), vec!["1001", "#1001"]);
        assert!(order_number_candidates("  ").is_empty());
        assert!(order_number_candidates("a\u{7}b").is_empty());
        assert!(order_number_candidates(&"1".repeat(255)).is_empty());
    }

    #[test]
    fn every_reason_has_distinct_words() {
        let mut seen = std::collections::BTreeSet::new();
        for r in ReturnReason::ALL {
            assert!(seen.insert(r.label()), "{r} repeats a label");
        }
    }
}
