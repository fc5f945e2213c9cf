//! What a return label and a packing slip say and where each thing goes,
//! as plain data: pages of [`Mark`]s in PDF points (origin bottom left),
//! which the engine writes as PDF, and the label again as ZPL text for
//! thermal printers ([`ReturnLabel::zpl`]). No IO: the same return gives
//! the same marks and the same ZPL, byte for byte.
//!
//! - The label is 4 × 6 inches (288 × 432 pt): the customer's ship-to as
//!   the sender, the destination location as the addressee, a Code 128
//!   barcode of the RMA number with the number in text, the reason, the
//!   order, and the carrier's tracking number when there is one.
//! - The packing slip is US Letter (612 × 792 pt): the RMA (text and
//!   barcode), where it goes, and each line to put in the box with its
//!   quantity and a box to tick, 30 lines a page.
//!
//! Text is drawn in the PDF's built-in Helvetica; [`fit`] shortens a line
//! (ending it in `...`) that would run past its space, measured with
//! Helvetica's widths rounded to a few classes (conservative: a line is
//! never longer than estimated by more than a few percent).

use super::code128::{Bars, Code128Error, QUIET_ZONE_MODULES};

/// 4 × 6 inches in points.
pub const LABEL_WIDTH_PT: f64 = 288.0;
pub const LABEL_HEIGHT_PT: f64 = 432.0;
/// US Letter in points.
pub const SLIP_WIDTH_PT: f64 = 612.0;
pub const SLIP_HEIGHT_PT: f64 = 792.0;
/// Item lines on one packing-slip page.
pub const SLIP_LINES_PER_PAGE: usize = 30;
/// A thermal label printer's resolution: 203 dots an inch (8 a mm).
pub const ZPL_DOTS_PER_INCH: f64 = 203.0;

/// An address as printed: a name and up to four lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelAddress {
    pub name: String,
    pub line1: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

impl LabelAddress {
    /// The lines under the name: street, "City, RG 12345", country.
    pub fn lines(&self) -> Vec<String> {
        let place = [self.city.trim(), &format!("{} {}", self.region.trim(), self.postal_code.trim())]
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        [self.line1.trim().to_owned(), place, self.country.trim().to_owned()]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// Everything a return label shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLabel {
    /// `RMA-261130-0001`: printed and encoded in the barcode.
    pub rma: String,
    /// The canonical reason code (`defective`).
    pub reason: String,
    /// The order as the customer knows it (`web 1001`).
    pub order: String,
    /// The customer: the order's ship-to.
    pub from: LabelAddress,
    /// The destination location.
    pub to: LabelAddress,
    /// The carrier that issued it and its tracking number, when one did.
    pub carrier: Option<String>,
    pub tracking: Option<String>,
}

/// One line of a packing slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipLine {
    pub sku: String,
    pub title: String,
    pub quantity: i64,
}

/// Everything a packing slip shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackingSlip {
    pub rma: String,
    pub reason: String,
    pub order: String,
    pub to: LabelAddress,
    pub lines: Vec<SlipLine>,
}

/// One thing drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// Text with its baseline starting at (x, y).
    Text { x: f64, y: f64, size: f64, bold: bool, text: String },
    /// A filled black rectangle (a rule, a box edge).
    Rect { x: f64, y: f64, width: f64, height: f64 },
    /// A Code 128 barcode of `text`: its bars start at `x` (the quiet zone
    /// is left of it), bottom `y`, each module `module` wide.
    Barcode { x: f64, y: f64, height: f64, module: f64, text: String },
}

/// A page and what is on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub width: f64,
    pub height: f64,
    pub marks: Vec<Mark>,
}

impl Mark {
    /// The filled rectangles a barcode is drawn with (x, y, width, height).
    pub fn barcode_rects(&self) -> Result<Vec<(f64, f64, f64, f64)>, Code128Error> {
        let Mark::Barcode { x, y, height, module, text } = self else { return Ok(vec![]) };
        let bars = Bars::of(text)?;
        Ok(bars
            .bars
            .iter()
            .map(|(start, width)| (x + f64::from(*start) * module, *y, f64::from(*width) * module, *height))
            .collect())
    }
}

/// Helvetica's advance width of `c` in em, by class.
fn char_em(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '\'' | '|' | '.' | ',' | ':' | ';' | '!' => 0.222,
        ' ' | 'f' | 't' | 'I' | '/' | '(' | ')' | '[' | ']' | '-' => 0.333,
        'r' => 0.333,
        'm' | 'M' => 0.833,
        'W' => 0.944,
        'w' => 0.722,
        '@' | '%' => 0.889,
        c if c.is_ascii_uppercase() => 0.722,
        c if c.is_ascii_digit() => 0.556,
        c if c.is_ascii_lowercase() => 0.556,
        _ => 0.667,
    }
}

/// The width of `text` at `size` points, in points (an estimate a little
/// over Helvetica's, bold included).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(char_em).sum::<f64>() * size * 1.05
}

/// `text` cut (ending in `...`) to fit `width` points at `size`.
pub fn fit(text: &str, size: f64, width: f64) -> String {
    let text = text.trim();
    if text_width(text, size) <= width {
        return text.to_owned();
    }
    let mut out: String = String::new();
    for c in text.chars() {
        let next = format!("{out}{c}...");
        if text_width(&next, size) > width {
            break;
        }
        out.push(c);
    }
    format!("{}...", out.trim_end())
}

fn text(x: f64, y: f64, size: f64, bold: bool, t: &str, width: f64) -> Mark {
    Mark::Text { x, y, size, bold, text: fit(t, size, width) }
}

/// Text centred on `mid`.
fn centred(mid: f64, y: f64, size: f64, bold: bool, t: &str, width: f64) -> Mark {
    let t = fit(t, size, width);
    let x = (mid - text_width(&t, size) / 2.0).max(0.0);
    Mark::Text { x, y, size, bold, text: t }
}

fn rule(x: f64, y: f64, width: f64) -> Mark {
    Mark::Rect { x, y, width, height: 1.5 }
}

/// A barcode of `text` centred on `mid`, as wide as `width` allows with
/// its quiet zones, modules at most `max_module` points.
fn barcode(mid: f64, y: f64, height: f64, width: f64, max_module: f64, text: &str) -> Result<Mark, Code128Error> {
    let bars = Bars::of(text)?;
    let total = f64::from(bars.modules + 2 * QUIET_ZONE_MODULES);
    let module = (width / total).min(max_module);
    let x = mid - f64::from(bars.modules) * module / 2.0;
    Ok(Mark::Barcode { x, y, height, module, text: text.to_owned() })
}

const MARGIN: f64 = 14.0;

impl ReturnLabel {
    /// The label's one page.
    pub fn layout(&self) -> Result<Page, Code128Error> {
        let (w, h) = (LABEL_WIDTH_PT, LABEL_HEIGHT_PT);
        let inner = w - 2.0 * MARGIN;
        let mut marks = vec![text(MARGIN, h - 32.0, 20.0, true, "RETURN", 100.0)];
        let issuer = fit(self.carrier.as_deref().unwrap_or("Self-printed"), 9.0, inner - 110.0);
        marks.push(Mark::Text {
            x: w - MARGIN - text_width(&issuer, 9.0),
            y: h - 30.0,
            size: 9.0,
            bold: false,
            text: issuer,
        });
        marks.push(rule(MARGIN, h - 42.0, inner));

        marks.push(text(MARGIN, h - 56.0, 7.0, true, "FROM", inner));
        let mut y = h - 68.0;
        for line in std::iter::once(self.from.name.clone()).chain(self.from.lines()) {
            marks.push(text(MARGIN, y, 10.0, false, &line, inner));
            y -= 12.0;
        }
        marks.push(rule(MARGIN, h - 120.0, inner));

        marks.push(text(MARGIN, h - 134.0, 7.0, true, "SHIP TO", inner));
        marks.push(text(MARGIN, h - 152.0, 15.0, true, &self.to.name, inner));
        let mut y = h - 168.0;
        for line in self.to.lines() {
            marks.push(text(MARGIN, y, 12.0, false, &line, inner));
            y -= 15.0;
        }
        marks.push(rule(MARGIN, h - 222.0, inner));

        marks.push(barcode(w / 2.0, h - 316.0, 84.0, w - 2.0, 1.5, &self.rma)?);
        marks.push(centred(w / 2.0, h - 336.0, 16.0, true, &self.rma, inner));
        marks.push(text(MARGIN, h - 360.0, 10.0, false, &format!("Reason: {}", self.reason), inner));
        marks.push(text(MARGIN, h - 374.0, 10.0, false, &format!("Order: {}", self.order), inner));
        let tracking = match &self.tracking {
            Some(t) => format!("Tracking: {t}"),
            None => "No tracking number: keep your drop-off receipt".to_owned(),
        };
        marks.push(text(MARGIN, h - 388.0, 10.0, false, &tracking, inner));
        marks.push(text(
            MARGIN,
            14.0,
            7.0,
            false,
            "Put the packing slip in the box; attach this label outside.",
            inner,
        ));
        Ok(Page { width: w, height: h, marks })
    }

    /// The same label in ZPL II for a 203 dpi 4 × 6 thermal printer: each
    /// text of [`ReturnLabel::layout`] at its place (`^A0` scalable font,
    /// `^FH` so `^`, `~` and `_` in the data cannot end a field), the rules
    /// as `^GB` boxes and the barcode as `^BC` (Code 128, the printer
    /// encodes it). UTF-8 (`^CI28`).
    pub fn zpl(&self) -> Result<String, Code128Error> {
        let page = self.layout()?;
        let dots = |pt: f64| (pt * ZPL_DOTS_PER_INCH / 72.0).round() as i64;
        let mut out = String::from("^XA\n^CI28\n");
        out.push_str(&format!("^PW{}\n^LL{}\n", dots(page.width), dots(page.height)));
        for mark in &page.marks {
            match mark {
                Mark::Text { x, y, size, text, .. } => {
                    // ^FO is the field's top left; a PDF text's y its baseline.
                    let top = page.height - y - size * 0.75;
                    let h = dots(*size);
                    out.push_str(&format!("^FO{},{}^A0N,{h},{h}^FH^FD{}^FS\n", dots(*x), dots(top), zpl_escape(text)));
                }
                Mark::Rect { x, y, width, height } => {
                    let (w, t) = (dots(*width), dots(*height).max(1));
                    out.push_str(&format!("^FO{},{}^GB{w},{t},{t}^FS\n", dots(*x), dots(page.height - y - height)));
                }
                Mark::Barcode { x, y, height, module, text } => {
                    // Whole dots a module, never wider than the PDF's, centred where the PDF's is.
                    let modules = f64::from(Bars::of(text)?.modules);
                    let m = ((module * ZPL_DOTS_PER_INCH / 72.0).floor() as i64).clamp(1, 10);
                    let left = dots(x + modules * module / 2.0) - (modules as i64 * m) / 2;
                    let (h, top) = (dots(*height), dots(page.height - y - height));
                    out.push_str(&format!("^FO{left},{top}^BY{m}^BCN,{h},N,N,N^FH^FD{}^FS\n", zpl_escape(text)));
                }
            }
        }
        out.push_str("^XZ\n");
        Ok(out)
    }
}

/// Field data for `^FH`: the escape character and the two command
/// prefixes as hex.
fn zpl_escape(text: &str) -> String {
    text.replace('_', "_5F").replace('^', "_5E").replace('~', "_7E")
}

impl PackingSlip {
    /// The slip's pages: the header on each, [`SLIP_LINES_PER_PAGE`] lines
    /// a page, at least one page.
    pub fn layout(&self) -> Result<Vec<Page>, Code128Error> {
        let (w, h, left) = (SLIP_WIDTH_PT, SLIP_HEIGHT_PT, 40.0);
        let inner = w - 2.0 * left;
        let chunks: Vec<&[SlipLine]> =
            if self.lines.is_empty() { vec![&[]] } else { self.lines.chunks(SLIP_LINES_PER_PAGE).collect() };
        let count = chunks.len();
        let units: i64 = self.lines.iter().map(|l| l.quantity).sum();
        let mut pages = Vec::with_capacity(count);
        for (n, lines) in chunks.into_iter().enumerate() {
            let mut marks = vec![
                text(left, h - 50.0, 18.0, true, "RETURN PACKING SLIP", 300.0),
                text(left, h - 72.0, 14.0, true, &self.rma, 300.0),
                text(left, h - 90.0, 10.0, false, &format!("Order: {}", self.order), 300.0),
                text(left, h - 104.0, 10.0, false, &format!("Reason: {}", self.reason), 300.0),
                barcode(w - left - 125.0, h - 110.0, 60.0, 250.0, 1.2, &self.rma)?,
                text(left, h - 132.0, 8.0, true, "SEND TO", 300.0),
            ];
            let mut y = h - 146.0;
            for line in std::iter::once(self.to.name.clone()).chain(self.to.lines()) {
                marks.push(text(left, y, 10.0, false, &line, 300.0));
                y -= 13.0;
            }
            if count > 1 {
                let page = format!("Page {} of {count}", n + 1);
                marks.push(text(w - left - text_width(&page, 9.0), h - 132.0, 9.0, false, &page, 150.0));
            }
            let top = h - 218.0;
            marks.push(text(left, top, 9.0, true, "PACKED", 60.0));
            marks.push(text(left + 60.0, top, 9.0, true, "QTY", 50.0));
            marks.push(text(left + 110.0, top, 9.0, true, "SKU", 140.0));
            marks.push(text(left + 260.0, top, 9.0, true, "ITEM", inner - 260.0));
            marks.push(rule(left, top - 6.0, inner));
            let mut y = top - 22.0;
            for line in lines {
                // An empty box to tick: four thin rules.
                marks.extend([
                    Mark::Rect { x: left, y: y - 2.0, width: 10.0, height: 0.8 },
                    Mark::Rect { x: left, y: y + 8.0, width: 10.0, height: 0.8 },
                    Mark::Rect { x: left, y: y - 2.0, width: 0.8, height: 10.8 },
                    Mark::Rect { x: left + 9.2, y: y - 2.0, width: 0.8, height: 10.8 },
                ]);
                marks.push(text(left + 60.0, y, 10.0, false, &line.quantity.to_string(), 45.0));
                marks.push(text(left + 110.0, y, 10.0, false, &line.sku, 145.0));
                marks.push(text(left + 260.0, y, 10.0, false, &line.title, inner - 260.0));
                y -= 18.0;
            }
            let total = format!("{units} unit(s) in {} line(s)", self.lines.len());
            marks.push(text(left, 58.0, 9.0, false, &total, inner));
            let note = "Put this slip in the box with the items above; attach the return label outside.";
            marks.push(text(left, 40.0, 9.0, false, note, inner));
            pages.push(Page { width: w, height: h, marks });
        }
        Ok(pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(name: &str, line1: &str, city: &str, region: &str, postal: &str) -> LabelAddress {
        LabelAddress {
            name: name.into(),
            line1: line1.into(),
            city: city.into(),
            region: region.into(),
            postal_code: postal.into(),
            country: "US".into(),
        }
    }

    fn label() -> ReturnLabel {
        ReturnLabel {
            rma: "RMA-261130-0001".into(),
            reason: "defective".into(),
            order: "web ret-1".into(),
            from: address("Ana Lima", "1 Oak St", "Portland", "OR", "97205"),
            to: address("Reno DC", "1 Dock", "Reno", "NV", "89501"),
            carrier: None,
            tracking: None,
        }
    }

    #[test]
    fn the_zpl_label_is_stable() {
        let zpl = label().zpl().expect("ascii rma");
        // The snapshot: 203 dpi dots; the barcode 200 modules of 3 dots, centred on the 812-dot width.
        let want = "^XA\n\
^CI28\n\
^PW812\n\
^LL1218\n\
^FO39,48^A0N,56,56^FH^FDRETURN^FS\n\
^FO632,66^A0N,25,25^FH^FDSelf-printed^FS\n\
^FO39,114^GB733,4,4^FS\n\
^FO39,143^A0N,20,20^FH^FDFROM^FS\n\
^FO39,171^A0N,28,28^FH^FDAna Lima^FS\n\
^FO39,204^A0N,28,28^FH^FD1 Oak St^FS\n\
^FO39,238^A0N,28,28^FH^FDPortland, OR 97205^FS\n\
^FO39,272^A0N,28,28^FH^FDUS^FS\n\
^FO39,334^GB733,4,4^FS\n\
^FO39,363^A0N,20,20^FH^FDSHIP TO^FS\n\
^FO39,397^A0N,42,42^FH^FDReno DC^FS\n\
^FO39,448^A0N,34,34^FH^FD1 Dock^FS\n\
^FO39,491^A0N,34,34^FH^FDReno, NV 89501^FS\n\
^FO39,533^A0N,34,34^FH^FDUS^FS\n\
^FO39,622^GB733,4,4^FS\n\
^FO106,654^BY3^BCN,237,N,N,N^FH^FDRMA-261130-0001^FS\n\
^FO205,914^A0N,45,45^FH^FDRMA-261130-0001^FS\n\
^FO39,994^A0N,28,28^FH^FDReason: defective^FS\n\
^FO39,1033^A0N,28,28^FH^FDOrder: web ret-1^FS\n\
^FO39,1073^A0N,28,28^FH^FDNo tracking number: keep your drop-off receipt^FS\n\
^FO39,1164^A0N,20,20^FH^FDPut the packing slip in the box; attach this label outside.^FS\n\
^XZ\n";
        assert_eq!(zpl, want, "got:\n{zpl}");
    }

    #[test]
    fn zpl_field_data_cannot_end_its_field() {
        let mut l = label();
        l.order = "web ^XZ~JA_1".into();
        let zpl = l.zpl().expect("ascii");
        assert!(zpl.contains("^FDOrder: web _5EXZ_7EJA_5F1^FS"), "{zpl}");
        assert_eq!(zpl.matches("^XZ").count(), 1, "one label end");
    }

    #[test]
    fn the_label_fits_its_page_and_carries_the_barcode() {
        let mut l = label();
        l.to.line1 = "A very long street name that goes on and on past the edge of any label".into();
        l.carrier = Some("UPS".into());
        l.tracking = Some("1Z999AA10123456784".into());
        let page = l.layout().expect("ascii");
        assert_eq!((page.width, page.height), (288.0, 432.0));
        for mark in &page.marks {
            match mark {
                Mark::Text { x, y, size, text, .. } => {
                    assert!(*x >= 0.0 && x + text_width(text, *size) <= 288.0 + 0.01, "{text:?} runs off");
                    assert!(*y > 0.0 && *y < 432.0);
                }
                Mark::Barcode { x, module, text, .. } => {
                    let bars = Bars::of(text).expect("bars");
                    let quiet = f64::from(QUIET_ZONE_MODULES) * module;
                    assert!(x - quiet >= 0.0, "left quiet zone");
                    assert!(x + f64::from(bars.modules) * module + quiet <= 288.0, "right quiet zone");
                    assert!(*module >= 1.0, "a module of {module} pt prints");
                }
                Mark::Rect { .. } => {}
            }
        }
        let texts: Vec<&str> = page
            .marks
            .iter()
            .filter_map(|m| if let Mark::Text { text, .. } = m { Some(&**text) } else { None })
            .collect();
        assert!(texts.contains(&"UPS") && texts.contains(&"Tracking: 1Z999AA10123456784"), "{texts:?}");
        assert!(texts.iter().any(|t| t.starts_with("A very long street") && t.ends_with("...")), "{texts:?}");
        let rects = page.marks.iter().map(|m| m.barcode_rects().expect("ascii").len()).sum::<usize>();
        assert_eq!(rects, 3 * 17 + 4, "three bars a symbol, four in the stop");
    }

    #[test]
    fn a_long_packing_slip_takes_pages() {
        let lines = (0..65).map(|i| SlipLine { sku: format!("SKU-{i}"), title: "Tee".into(), quantity: 1 }).collect();
        let slip = PackingSlip {
            rma: "RMA-261130-0001".into(),
            reason: "wrong_size".into(),
            order: "web 1".into(),
            to: label().to,
            lines,
        };
        let pages = slip.layout().expect("ascii");
        assert_eq!(pages.len(), 3);
        let has = |p: &Page, s: &str| p.marks.iter().any(|m| matches!(m, Mark::Text { text, .. } if text == s));
        assert!(has(&pages[0], "SKU-0") && has(&pages[2], "SKU-64") && !has(&pages[0], "SKU-30"));
        assert!(has(&pages[1], "Page 2 of 3") && has(&pages[2], "65 unit(s) in 65 line(s)"));
        assert!(pages.iter().all(|p| has(p, "RMA-261130-0001")), "the RMA on every page");
        let empty = PackingSlip { lines: vec![], ..slip };
        assert_eq!(empty.layout().expect("ascii").len(), 1);
    }

    #[test]
    fn text_is_cut_to_fit() {
        assert_eq!(fit("Reno", 10.0, 100.0), "Reno");
        let cut = fit(&"W".repeat(50), 10.0, 100.0);
        assert!(cut.ends_with("...") && text_width(&cut, 10.0) <= 100.0, "{cut}");
        assert_eq!(
            address("A", "1 Dock", "Reno", "", "").lines(),
            vec!["1 Dock".to_owned(), "Reno".to_owned(), "US".to_owned()]
        );
    }
}
