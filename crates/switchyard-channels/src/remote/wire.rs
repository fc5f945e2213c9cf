//! What every platform's requests and answers share: settings and
//! credentials looked up with a refusal in plain words, JSON and form
//! bodies, URL encoding, ISO 8601 times from milliseconds (by hand: the
//! crate has no date library, and one function of days is all it takes),
//! and the reading of statuses and error bodies.

use serde_json::Value;

use super::{Conn, Host, Method, Outcome, Request, Unsendable};

/// A setting's trimmed value, or a refusal naming it and what it is for.
pub(crate) fn setting<'a>(conn: Conn<'a>, kind: &str, key: &str, what: &str) -> Result<&'a str, Unsendable> {
    opt_setting(conn, key)
        .ok_or_else(|| Unsendable(format!("{kind}: the setting `{key}` ({what}) is missing: add it to the connection")))
}

/// A setting's trimmed value; `None` when absent or blank.
pub(crate) fn opt_setting<'a>(conn: Conn<'a>, key: &str) -> Option<&'a str> {
    conn.settings.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// A credential, or a refusal naming it (never its value).
pub(crate) fn credential<'a>(conn: Conn<'a>, kind: &str, key: &str, what: &str) -> Result<&'a str, Unsendable> {
    conn.credentials.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()).ok_or_else(|| {
        Unsendable(format!("{kind}: the credential `{key}` ({what}) is missing: enter it on the connection"))
    })
}

/// The refreshed access token, which a platform with expiring tokens needs.
pub(crate) fn access_token<'a>(kind: &str, token: Option<&'a str>) -> Result<&'a str, Unsendable> {
    token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Unsendable(format!("{kind}: no access token: refresh it with the token request first")))
}

/// A request with no body.
pub(crate) fn bare(host: Host, method: Method, path: String) -> Request {
    Request { host, method, path, headers: vec![("Accept".into(), "application/json".into())], body: None }
}

/// A request with a JSON body.
pub(crate) fn json(host: Host, method: Method, path: String, body: &Value) -> Request {
    let mut req = bare(host, method, path);
    req.body = Some(("application/json".into(), body.to_string().into_bytes()));
    req
}

/// A request with an `application/x-www-form-urlencoded` body.
pub(crate) fn form(host: Host, path: String, fields: &[(&str, &str)]) -> Request {
    let text: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    let mut req = bare(host, Method::Post, path);
    req.body = Some(("application/x-www-form-urlencoded".into(), text.join("&").into_bytes()));
    req
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a
/// path segment, a query value or a form field.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Authorization: Basic` for `user:password`.
pub(crate) fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// Days since 1970-01-01 as a civil (proleptic Gregorian) date: Howard
/// Hinnant's `civil_from_days`, exact for every i64 day count that fits.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both fit: day in 1..=31, month in 1..=12.
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

/// Milliseconds since the epoch as ISO 8601 in UTC with milliseconds
/// (`2024-02-29T23:59:59.999Z`), the form Amazon and eBay take.
pub fn iso8601_from_ms(ms: i64) -> String {
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// `civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The time a checkpoint stands for, in milliseconds since the epoch: Unix
/// seconds (Etsy) or ISO 8601 in UTC (`2026-11-20T18:40:02Z`, with or
/// without a fraction, `Z` or `+00:00`). `None` for anything else.
pub fn checkpoint_ms(checkpoint: &str) -> Option<i64> {
    let t = checkpoint.trim();
    if !t.is_empty() && t.len() <= 12 && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().ok().map(|s| s.saturating_mul(1000));
    }
    let b = t.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r).filter(|d| d.bytes().all(|c| c.is_ascii_digit()))?.parse().ok();
    let (year, month, day): (i64, i64, i64) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, m, sec): (i64, i64, i64) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let rest = &t[19..];
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(f) => f.split_at(f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len())),
        None => ("", rest),
    };
    if !matches!(zone, "Z" | "+00:00") {
        return None;
    }
    let milli: i64 = format!("{fraction:0<3}").get(..3)?.parse().ok()?;
    let days = days_from_civil(year, month, day);
    Some(days * 86_400_000 + h * 3_600_000 + m * 60_000 + sec * 1000 + milli)
}

/// The later of two checkpoints of one platform ([`super::PollPage::newest`]):
/// ISO 8601 times in one format and Unix seconds both order by length,
/// then text.
pub fn later_checkpoint<'a>(a: &'a str, b: &'a str) -> &'a str {
    if (b.len(), b) > (a.len(), a) {
        b
    } else {
        a
    }
}

/// At most 300 characters of a platform's words, on one line.
pub(crate) fn short(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

/// The words of an error body, from the shapes the platforms use:
/// `errors[].message` / `longMessage` (Amazon, eBay, Shopify), `message`
/// (WooCommerce), `error_description` / `error` (OAuth), `errors` as text.
pub(crate) fn error_words(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    if let Some(list) = v.get("errors").and_then(Value::as_array) {
        let words: Vec<String> = list
            .iter()
            .filter_map(|e| {
                let message = e.get("longMessage").or_else(|| e.get("message")).and_then(text)?;
                Some(match e.get("code").and_then(|c| c.as_str().map(str::to_owned).or_else(|| Some(c.to_string()))) {
                    Some(code) if code != "null" => format!("{code}: {message}"),
                    _ => message,
                })
            })
            .collect();
        if !words.is_empty() {
            return Some(short(&words.join("; ")));
        }
    }
    for key in ["message", "error_description", "error", "errors"] {
        if let Some(words) = v.get(key).and_then(text) {
            return Some(short(&words));
        }
    }
    None
}

/// The outcome a status alone decides; `None` for 2xx, whose body the
/// platform reads. 429 is throttled; 408, 425 and 5xx are worth another
/// try; other statuses are refused with the platform's words.
pub(crate) fn by_status(status: u16, retry_after_secs: Option<i64>, body: &[u8]) -> Option<Outcome> {
    let reason = || match error_words(body) {
        Some(words) => format!("HTTP {status}: {words}"),
        None => format!("HTTP {status}"),
    };
    match status {
        200..=299 => None,
        429 => Some(Outcome::Throttled { retry_after_secs: retry_after_secs.filter(|s| *s >= 0) }),
        408 | 425 | 500..=599 => Some(Outcome::Transient(reason())),
        400..=499 => Some(Outcome::Rejected(reason())),
        _ => Some(Outcome::Transient(format!("unexpected HTTP status {status}"))),
    }
}

/// A 2xx answer's JSON; an empty body is `Null`, anything else that is not
/// JSON (a login page, a proxy's error) is worth another try.
pub(crate) fn json_answer(kind: &str, body: &[u8]) -> Result<Value, Outcome> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|_| Outcome::Transient(format!("{kind}: the answer is not JSON")))
}

/// A 2xx answer's JSON where one is required: missing or unreadable is
/// worth another try.
pub(crate) fn required_json(kind: &str, body: &[u8]) -> Result<Value, Outcome> {
    match json_answer(kind, body)? {
        Value::Null => Err(Outcome::Transient(format!("{kind}: the answer is empty"))),
        v => Ok(v),
    }
}

/// An id written as a string or an integer.
pub(crate) fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// Reads an OAuth token answer (`access_token`, `expires_in`, and
/// `refresh_token` when present); an error answer is refused with its words.
pub(crate) fn read_oauth_token(kind: &str, body: &[u8]) -> Result<super::Token, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| format!("{kind}: the token answer is not JSON"))?;
    let access = v.get("access_token").and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
    let Some(access) = access else {
        return Err(match error_words(body) {
            Some(words) => format!("{kind}: no access token: {words}"),
            None => format!("{kind}: the token answer has no access_token"),
        });
    };
    let expires = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|s| *s > 0)
    .ok_or_else(|| format!("{kind}: the token answer has no positive expires_in"))?;
    let refresh = v.get("refresh_token").and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
    Ok(super::Token {
        access_token: access.to_owned(),
        expires_in_secs: expires,
        refresh_token: refresh.map(str::to_owned),
    })
}

/// Levels split into runs of at most `n`.
pub(crate) fn chunks<T>(items: &[T], n: usize) -> impl Iterator<Item = &[T]> {
    items.chunks(n.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Days from the epoch counted the slow way, to check the formula.
    fn days_before(year: i64, month: u32, day: u32) -> i64 {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let mut days = 0i64;
        if year >= 1970 {
            days += (1970..year).map(|y| if leap(y) { 366 } else { 365 }).sum::<i64>();
        } else {
            days -= (year..1970).map(|y| if leap(y) { 366 } else { 365 }).sum::<i64>();
        }
        let lengths = [31, if leap(year) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        days += lengths[..(month as usize - 1)].iter().sum::<i64>();
        days + i64::from(day) - 1
    }

    #[test]
    fn iso_times_from_milliseconds() {
        assert_eq!(iso8601_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z", "2000 is a leap year");
        assert_eq!(iso8601_from_ms(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(iso8601_from_ms(1_709_251_200_000), "2024-03-01T00:00:00.000Z");
        assert_eq!(iso8601_from_ms(4_107_542_400_000), "2100-03-01T00:00:00.000Z", "2100 is not a leap year");
        assert_eq!(iso8601_from_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso8601_from_ms(1_767_225_600_000), "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn civil_dates_match_counting_days_for_four_centuries() {
        for (y, m, d) in [(1900, 3, 1), (1968, 2, 29), (2000, 12, 31), (2096, 2, 29), (2100, 2, 28), (2399, 12, 31)] {
            assert_eq!(civil_from_days(days_before(y, m, d)), (y, m, d));
        }
        let mut previous = civil_from_days(days_before(1900, 1, 1) - 1);
        for days in days_before(1900, 1, 1)..days_before(2300, 1, 1) {
            let next = civil_from_days(days);
            assert!(next > previous, "{next:?} after {previous:?}");
            previous = next;
        }
        assert_eq!(previous, (2299, 12, 31));
    }

    #[test]
    fn extreme_times_do_not_panic() {
        for ms in [i64::MIN, i64::MIN + 1, i64::MAX, -62_135_596_800_000] {
            assert!(iso8601_from_ms(ms).ends_with('Z'));
        }
        assert_eq!(iso8601_from_ms(-62_135_596_800_000), "0001-01-01T00:00:00.000Z");
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode("TEE/RED M+1&é"), "TEE%2FRED%20M%2B1%26%C3%A9");
        assert_eq!(encode("a-b.c_d~9"), "a-b.c_d~9");
    }

    #[test]
    fn checkpoints_read_as_times() {
        let ms = 1_790_000_000_123;
        assert_eq!(checkpoint_ms(&iso8601_from_ms(ms)), Some(ms));
        assert_eq!(checkpoint_ms("2026-11-20T18:40:02Z"), checkpoint_ms("2026-11-20T18:40:02.000Z"));
        assert_eq!(checkpoint_ms("2026-11-20T18:40:02+00:00"), checkpoint_ms("2026-11-20T18:40:02Z"));
        assert_eq!(checkpoint_ms("1970-01-01T00:00:01.5Z"), Some(1_500));
        assert_eq!(checkpoint_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(checkpoint_ms("1790000000"), Some(1_790_000_000_000), "Etsy's Unix seconds");
        for bad in ["", "soon", "2026-13-01T00:00:00Z", "2026-11-20 18:40:02Z", "2026-11-20T18:40:02+02:00"] {
            assert_eq!(checkpoint_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn later_checkpoints_by_length_then_text() {
        assert_eq!(later_checkpoint("999", "1000"), "1000");
        assert_eq!(later_checkpoint("2026-01-02T00:00:00Z", "2026-01-01T23:59:59Z"), "2026-01-02T00:00:00Z");
    }

    #[test]
    fn statuses_and_error_words() {
        let amazon = br#"{"errors":[{"code":"InvalidInput","message":"Invalid SKU"}]}"#;
        assert_eq!(by_status(400, None, amazon), Some(Outcome::Rejected("HTTP 400: InvalidInput: Invalid SKU".into())));
        assert_eq!(by_status(429, Some(7), b""), Some(Outcome::Throttled { retry_after_secs: Some(7) }));
        assert_eq!(by_status(429, Some(-3), b""), Some(Outcome::Throttled { retry_after_secs: None }));
        assert_eq!(by_status(503, None, b"<html>down</html>"), Some(Outcome::Transient("HTTP 503".into())));
        assert_eq!(by_status(204, None, b""), None);
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(1000));
        assert!(error_words(long.as_bytes()).is_some_and(|w| w.chars().count() == 301));
    }
}
