//! Coordinates from a postal code, where that is possible offline: US ZIP
//! code centroids, embedded at build time (`build.rs`, from the `zipcodes`
//! data set). Used when a location is saved without coordinates, so
//! distance-based routing works for a shop that only typed its address.
//! Other countries: the coordinates must be typed.

/// The table `build.rs` wrote: 12 bytes a code, sorted by code.
static US_ZIP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/us_zip.bin"));
const ROW: usize = 12;

fn word(row: &[u8], at: usize) -> [u8; 4] {
    let mut w = [0; 4];
    w.copy_from_slice(&row[at..at + 4]);
    w
}

/// The centroid (latitude, longitude) of a postal code in `country`, when
/// it is a US ZIP code we know (`12345` or `12345-6789`).
pub fn coordinates(country: &str, postal_code: &str) -> Option<(f64, f64)> {
    if !country.trim().eq_ignore_ascii_case("US") {
        return None;
    }
    let digits = postal_code.trim().get(..5)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u32 = digits.parse().ok()?;
    let rows = US_ZIP.len() / ROW;
    let (mut lo, mut hi) = (0, rows);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let row = &US_ZIP[mid * ROW..mid * ROW + ROW];
        match u32::from_le_bytes(word(row, 0)).cmp(&code) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                let lat = f64::from(i32::from_le_bytes(word(row, 4))) / 100_000.0;
                let lon = f64::from(i32::from_le_bytes(word(row, 8))) / 100_000.0;
                return Some((lat, lon));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_zip_codes_have_their_centroids() {
        assert!(US_ZIP.len() > 30_000 * ROW, "the table holds the US codes: {} bytes", US_ZIP.len());
        // 97201 is Portland, Oregon; 10001 Manhattan.
        let (lat, lon) = coordinates("US", "97201").expect("Portland");
        assert!((45.4..45.6).contains(&lat) && (-122.8..-122.6).contains(&lon), "{lat}, {lon}");
        let (lat, lon) = coordinates("us", " 10001-1234 ").expect("New York");
        assert!((40.7..40.8).contains(&lat) && (-74.1..-73.9).contains(&lon), "{lat}, {lon}");
        assert_eq!(coordinates("US", "00000"), None);
        assert_eq!(coordinates("CA", "97201"), None, "only US codes");
        assert_eq!(coordinates("US", "9720"), None);
        assert_eq!(coordinates("US", "ABCDE"), None);
    }
}
