//! Address checks at intake: required fields, an ISO 3166-1 country, and
//! the postal-code format of the countries we know (US, CA, GB, DE, FR, AU,
//! NL). A failing address does not refuse the order: it becomes an
//! `address_invalid` exception and the order waits for a human.

use crate::order::ShipTo;

/// ISO 3166-1 alpha-2 codes (officially assigned).
const COUNTRIES: &str = "\
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY \
    BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK \
    FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR \
    IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK \
    ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM \
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF \
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` is an assigned ISO 3166-1 alpha-2 country code.
pub fn is_country(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && COUNTRIES.split_ascii_whitespace().any(|c| c == code)
}

/// Why an address cannot be shipped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressProblem {
    Missing(&'static str),
    UnknownCountry(String),
    BadPostalCode { country: String, postal_code: String, expected: &'static str },
}

impl std::fmt::Display for AddressProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(field) => write!(f, "{field} is missing"),
            Self::UnknownCountry(c) => write!(f, "{c:?} is not an ISO 3166 country code"),
            Self::BadPostalCode { country, postal_code, expected } => {
                write!(f, "postal code {postal_code:?} does not look like a {country} postal code ({expected})")
            }
        }
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn letter(b: u8) -> bool {
    b.is_ascii_alphabetic()
}

/// `None` when the postal code fits the country's format (or we do not know
/// the country's format); otherwise a description of the expected format.
pub fn postal_code_problem(country: &str, postal_code: &str) -> Option<&'static str> {
    let p = postal_code.trim().to_ascii_uppercase();
    let compact: String = p.chars().filter(|c| *c != ' ').collect();
    let b = compact.as_bytes();
    let ok = match country {
        "US" => digits(&p, 5) || (p.len() == 10 && digits(&p[..5], 5) && &p[5..6] == "-" && digits(&p[6..], 4)),
        "CA" => {
            b.len() == 6
                && letter(b[0])
                && b[1].is_ascii_digit()
                && letter(b[2])
                && b[3].is_ascii_digit()
                && letter(b[4])
                && b[5].is_ascii_digit()
        }
        "GB" => {
            // Outward code (A9, A99, AA9, AA99, A9A, AA9A) then inward code (9AA).
            let n = b.len();
            (5..=7).contains(&n) && b[n - 3].is_ascii_digit() && letter(b[n - 2]) && letter(b[n - 1]) && {
                let out = &b[..n - 3];
                letter(out[0])
                    && out.iter().any(u8::is_ascii_digit)
                    && out.iter().all(u8::is_ascii_alphanumeric)
                    && (out[1].is_ascii_digit() || (letter(out[1]) && out.len() >= 3 && out[2].is_ascii_digit()))
            }
        }
        "DE" | "FR" => digits(&p, 5),
        "AU" => digits(&p, 4),
        "NL" => b.len() == 6 && digits(&compact[..4], 4) && b[0] != b'0' && letter(b[4]) && letter(b[5]),
        _ => return None,
    };
    if ok {
        return None;
    }
    Some(match country {
        "US" => "12345 or 12345-6789",
        "CA" => "A1A 1A1",
        "GB" => "e.g. SW1A 1AA",
        "DE" | "FR" => "five digits",
        "AU" => "four digits",
        _ => "1234 AB",
    })
}

/// The address problems that hold an order: none for one the customer
/// collects (pickup, a counter sale), whose address nobody ships to.
pub fn hold_problems(ship_to: &ShipTo, service_level: crate::ServiceLevel) -> Vec<AddressProblem> {
    if service_level == crate::ServiceLevel::Pickup {
        Vec::new()
    } else {
        check(ship_to)
    }
}

/// Every problem with the address; empty when it can be shipped to.
pub fn check(ship_to: &ShipTo) -> Vec<AddressProblem> {
    let mut problems = Vec::new();
    for (field, value) in [
        ("name", &ship_to.name),
        ("line1", &ship_to.line1),
        ("city", &ship_to.city),
        ("postal_code", &ship_to.postal_code),
        ("country", &ship_to.country),
    ] {
        if value.trim().is_empty() {
            problems.push(AddressProblem::Missing(field));
        }
    }
    let country = ship_to.country.trim();
    if !country.is_empty() && !is_country(country) {
        problems.push(AddressProblem::UnknownCountry(country.to_owned()));
    } else if !ship_to.postal_code.trim().is_empty() {
        if let Some(expected) = postal_code_problem(country, &ship_to.postal_code) {
            problems.push(AddressProblem::BadPostalCode {
                country: country.to_owned(),
                postal_code: ship_to.postal_code.clone(),
                expected,
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_codes_by_country() {
        let cases = [
            ("US", "97205", true),
            ("US", "97205-1234", true),
            ("US", "9720", false),
            ("US", "ABCDE", false),
            ("CA", "K1A 0B1", true),
            ("CA", "k1a0b1", true),
            ("CA", "K1A 0B", false),
            ("GB", "SW1A 1AA", true),
            ("GB", "M1 1AE", true),
            ("GB", "B33 8TH", true),
            ("GB", "CR2 6XH", true),
            ("GB", "DN55 1PT", true),
            ("GB", "12345", false),
            ("DE", "10115", true),
            ("DE", "1011", false),
            ("FR", "75001", true),
            ("AU", "2000", true),
            ("AU", "20000", false),
            ("NL", "1012 AB", true),
            ("NL", "1012AB", true),
            ("NL", "0123 AB", false),
            ("NL", "1012", false),
            ("JP", "100-0001", true),
        ];
        for (country, code, ok) in cases {
            assert_eq!(postal_code_problem(country, code).is_none(), ok, "{country} {code}");
        }
    }

    #[test]
    fn whole_address() {
        let good = ShipTo {
            name: "Ana".into(),
            line1: "1 Oak St".into(),
            city: "Portland".into(),
            region: "OR".into(),
            postal_code: "97205".into(),
            country: "US".into(),
            lat: None,
            lon: None,
        };
        assert!(check(&good).is_empty());
        let bad = ShipTo { line1: " ".into(), country: "XX".into(), ..good.clone() };
        assert_eq!(check(&bad), vec![AddressProblem::Missing("line1"), AddressProblem::UnknownCountry("XX".into())]);
        let zip = ShipTo { postal_code: "ABC".into(), ..good };
        assert!(matches!(check(&zip).as_slice(), [AddressProblem::BadPostalCode { .. }]));
        assert!(is_country("DE") && !is_country("de") && !is_country("ZZ"));
    }
}
