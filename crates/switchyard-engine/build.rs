//! Builds the US ZIP code table the engine embeds (`geocode.rs`): every
//! active code's centroid as 12 little-endian bytes — the code (u32), then
//! latitude and longitude in hundred-thousandths of a degree (i32) — sorted
//! by code, so a lookup is a binary search over a static slice.

use std::io::Write;

fn main() {
    let mut rows: Vec<(u32, i32, i32)> = zipcodes::database()
        .iter()
        .filter_map(|z| {
            let code: u32 = z.zip_code.parse().ok()?;
            let lat: f64 = z.lat.parse().ok()?;
            let lon: f64 = z.long.parse().ok()?;
            let valid = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
            valid.then(|| (code, (lat * 100_000.0).round() as i32, (lon * 100_000.0).round() as i32))
        })
        .collect();
    rows.sort_unstable_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("us_zip.bin");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).expect("create the ZIP table"));
    for (code, lat, lon) in rows {
        file.write_all(&code.to_le_bytes()).expect("write");
        file.write_all(&lat.to_le_bytes()).expect("write");
        file.write_all(&lon.to_le_bytes()).expect("write");
    }
    file.flush().expect("flush");
    println!("cargo:rerun-if-changed=build.rs");
}
