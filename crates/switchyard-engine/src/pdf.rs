//! A small PDF 1.4 writer for the core's label pages
//! (`switchyard_core::returns::label::Page`): text in the two built-in
//! Helvetica faces (no font is embedded), filled rectangles, and Code 128
//! barcodes drawn as filled rectangles. Hand-built rather than a PDF crate:
//! that is all a label needs, the output is the same bytes for the same
//! pages (no timestamps, no ids), and nothing is pulled into the build.
//!
//! Text is written in WinAnsiEncoding: printable ASCII and Latin-1 as
//! they are, the Windows-1252 extras (`€`, `–`, `’`, ...) mapped, and any
//! other character as `?` (the built-in fonts have no glyph for it).

use std::fmt::Write as _;

use switchyard_core::returns::code128::Code128Error;
use switchyard_core::returns::label::{Mark, Page};

/// The PDF of `pages`, in order.
pub fn render(pages: &[Page]) -> Result<Vec<u8>, Code128Error> {
    let mut contents = Vec::with_capacity(pages.len());
    for page in pages {
        contents.push(content_stream(page)?);
    }
    // Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold, then
    // per page its page object and its content stream.
    let page_ids: Vec<usize> = (0..pages.len()).map(|i| 5 + 2 * i).collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            page_ids.iter().map(|id| format!("{id} 0 R")).collect::<Vec<_>>().join(" "),
            pages.len()
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    for ((page, content), id) in pages.iter().zip(&contents).zip(&page_ids) {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> \
                 >> /Contents {} 0 R >>",
                num(page.width),
                num(page.height),
                id + 1
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(table, "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    out.extend_from_slice(table.as_bytes());
    Ok(out)
}

/// A page's drawing operators.
fn content_stream(page: &Page) -> Result<Vec<u8>, Code128Error> {
    let mut out = Vec::new();
    out.extend_from_slice(b"0 g\n");
    for mark in &page.marks {
        match mark {
            Mark::Text { x, y, size, bold, text } => {
                let font = if *bold { "F2" } else { "F1" };
                out.extend_from_slice(format!("BT /{font} {} Tf {} {} Td (", num(*size), num(*x), num(*y)).as_bytes());
                out.extend_from_slice(&pdf_string(text));
                out.extend_from_slice(b") Tj ET\n");
            }
            Mark::Rect { x, y, width, height } => rect(&mut out, *x, *y, *width, *height),
            Mark::Barcode { .. } => {
                for (x, y, width, height) in mark.barcode_rects()? {
                    rect(&mut out, x, y, width, height);
                }
            }
        }
    }
    Ok(out)
}

fn rect(out: &mut Vec<u8>, x: f64, y: f64, width: f64, height: f64) {
    out.extend_from_slice(format!("{} {} {} {} re f\n", num(x), num(y), num(width), num(height)).as_bytes());
}

/// A number as PDF writes it: at most three decimals, no trailing zeros.
fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" || text.is_empty() {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// The body of a literal string in WinAnsiEncoding: `(`, `)` and `\`
/// escaped, every byte outside printable ASCII as an octal escape.
fn pdf_string(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let byte = win_ansi(c);
        match byte {
            b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', byte]),
            0x20..=0x7E => out.push(byte),
            _ => out.extend_from_slice(format!("\\{byte:03o}").as_bytes()),
        }
    }
    out
}

/// The WinAnsiEncoding byte of `c`, or `?`.
fn win_ansi(c: char) -> u8 {
    const EXTRAS: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    match u32::from(c) {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(u32::from(c)).unwrap_or(b'?'),
        _ => EXTRAS.iter().find(|(x, _)| *x == c).map_or(b'?', |(_, b)| *b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_a_well_formed_pdf() {
        let page = Page {
            width: 288.0,
            height: 432.0,
            marks: vec![
                Mark::Text { x: 14.0, y: 400.0, size: 20.0, bold: true, text: "RETURN (a) \\ é € ✓".into() },
                Mark::Rect { x: 14.0, y: 390.0, width: 260.0, height: 1.5 },
            ],
        };
        let pdf = render(std::slice::from_ref(&page)).expect("renders");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4\n") && text.ends_with("%%EOF\n"));
        assert!(text.contains("(RETURN \\(a\\) \\\\ \\351 \\200 ?) Tj"), "{text}");
        assert!(text.contains("14 390 260 1.5 re f"), "{text}");
        // Every xref offset points at its object.
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .expect("startxref")
            .parse()
            .expect("a number");
        let table = std::str::from_utf8(&pdf[xref_at..]).expect("the table is ASCII");
        assert!(table.starts_with("xref\n0 7\n"), "{table}");
        for (i, line) in table.lines().skip(3).take(6).enumerate() {
            let offset: usize = line[..10].parse().expect("offset");
            assert!(pdf[offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()), "object {}", i + 1);
        }
        assert_eq!(render(&[page]).expect("renders"), pdf, "the same bytes every time");
        assert_eq!((num(1.2360), num(-0.0001), num(12.0)), ("1.236".into(), "0".into(), "12".into()));
    }
}
