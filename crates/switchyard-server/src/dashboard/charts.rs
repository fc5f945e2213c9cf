//! Server-rendered SVG charts for the dashboard, written by hand: stacked
//! bars and lines over labelled days, and horizontal bars for categories,
//! each with axes, tick labels, a legend and a `<title>` for screen readers.
//! The SVG scales to its container (`viewBox`, `width="100%"`), so a chart
//! reads on a phone. Every piece of text is escaped here: names come from
//! the shop's data (channel names).

use std::fmt::Write;

/// One named row of values, one per x label.
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) values: Vec<f64>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 58.0;
/// X labels shown at most (every n-th day past it).
const MAX_X_LABELS: usize = 10;
const COLOURS: [&str; 8] = ["#2458d3", "#e07b00", "#1a9c5b", "#b42318", "#7a4fd6", "#0e8a9e", "#c2418f", "#667085"];

/// Text made safe inside SVG/HTML elements and attributes.
pub(crate) fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` (1 for nothing).
fn nice_ceiling(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|v| *v >= max - 1e-9).unwrap_or(10.0 * magnitude)
}

fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

/// The frame shared by bars and lines: `<svg>`, title, grid, y ticks, x
/// labels; the caller draws inside the plot area and the legend follows.
struct Frame {
    svg: String,
    y_max: f64,
    n: usize,
}

impl Frame {
    fn new(title: &str, x_labels: &[String], y_max: f64, y_format: fn(f64) -> String) -> Frame {
        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" \
             xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\" font-family=\"system-ui, sans-serif\">\
             <title>{}</title>",
            escape(title)
        );
        let plot_h = HEIGHT - TOP - BOTTOM;
        for tick in 0..=4 {
            let value = y_max * f64::from(tick) / 4.0;
            let y = TOP + plot_h - plot_h * f64::from(tick) / 4.0;
            let _ = write!(
                svg,
                "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e7ec\"/>\
                 <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#667085\">{}</text>",
                WIDTH - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                escape(&y_format(value))
            );
        }
        let n = x_labels.len().max(1);
        let every = x_labels.len().div_ceil(MAX_X_LABELS).max(1);
        let step = (WIDTH - LEFT - RIGHT) / n as f64;
        for (i, label) in x_labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
            let x = LEFT + step * (i as f64 + 0.5);
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#667085\">{}</text>",
                HEIGHT - BOTTOM + 14.0,
                escape(label)
            );
        }
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#98a2b3\"/>\
             <line x1=\"{LEFT}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#98a2b3\"/>",
            TOP + plot_h,
            WIDTH - RIGHT,
            TOP + plot_h,
            TOP + plot_h
        );
        Frame { svg, y_max, n }
    }

    fn step(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.n as f64
    }

    /// The y coordinate of `value`.
    fn y(&self, value: f64) -> f64 {
        let plot_h = HEIGHT - TOP - BOTTOM;
        TOP + plot_h - plot_h * (value.max(0.0) / self.y_max).min(1.0)
    }

    /// The legend under the plot, then `</svg>`.
    fn finish(mut self, names: &[&str]) -> String {
        let mut x = LEFT;
        let y = HEIGHT - 20.0;
        for (i, name) in names.iter().enumerate() {
            let _ = write!(
                self.svg,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
                 <text x=\"{:.1}\" y=\"{y:.1}\" fill=\"#1d2330\">{}</text>",
                y - 9.0,
                colour(i),
                x + 14.0,
                escape(name)
            );
            x += 24.0 + 7.0 * name.chars().count() as f64;
        }
        self.svg.push_str("</svg>");
        self.svg
    }
}

/// Stacked bars: one bar per x label, one segment per series.
pub(crate) fn stacked_bars(title: &str, x_labels: &[String], series: &[Series], y_format: fn(f64) -> String) -> String {
    let totals: Vec<f64> =
        (0..x_labels.len()).map(|i| series.iter().filter_map(|s| s.values.get(i)).sum::<f64>()).collect();
    let y_max = nice_ceiling(totals.iter().copied().fold(0.0, f64::max));
    let mut frame = Frame::new(title, x_labels, y_max, y_format);
    let step = frame.step();
    let width = (step * 0.7).max(1.0);
    for (i, label) in x_labels.iter().enumerate() {
        let mut base = 0.0;
        for (k, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let (top, bottom) = (frame.y(base + v), frame.y(base));
            let x = LEFT + step * i as f64 + (step - width) / 2.0;
            let _ = write!(
                frame.svg,
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{}\">\
                 <title>{}: {} {}</title></rect>",
                (bottom - top).max(0.5),
                colour(k),
                escape(label),
                escape(&s.name),
                escape(&y_format(v))
            );
            base += v;
        }
    }
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    frame.finish(&names)
}

/// Lines with a dot per point; `y_max` fixes the scale (rates: 1).
pub(crate) fn lines(
    title: &str,
    x_labels: &[String],
    series: &[Series],
    y_max: Option<f64>,
    y_format: fn(f64) -> String,
) -> String {
    let highest = series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max);
    let mut frame = Frame::new(title, x_labels, y_max.unwrap_or_else(|| nice_ceiling(highest)), y_format);
    let step = frame.step();
    for (k, s) in series.iter().enumerate() {
        let points: Vec<(f64, f64)> =
            s.values.iter().enumerate().map(|(i, v)| (LEFT + step * (i as f64 + 0.5), frame.y(*v))).collect();
        let path: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = write!(
            frame.svg,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>",
            colour(k),
            path.join(" ")
        );
        for ((x, y), (label, v)) in points.iter().zip(x_labels.iter().zip(&s.values)) {
            let _ = write!(
                frame.svg,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{}\"><title>{}: {} {}</title></circle>",
                colour(k),
                escape(label),
                escape(&s.name),
                escape(&y_format(*v))
            );
        }
    }
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    frame.finish(&names)
}

/// Horizontal bars, one per category, each labelled with its value.
pub(crate) fn horizontal_bars(title: &str, rows: &[(String, f64)], value_format: fn(f64) -> String) -> String {
    let (label_w, row_h, top) = (110.0, 26.0, 8.0);
    let height = top * 2.0 + row_h * rows.len().max(1) as f64;
    let max = nice_ceiling(rows.iter().map(|(_, v)| *v).fold(0.0, f64::max));
    let plot_w = WIDTH - label_w - RIGHT - 40.0;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"100%\" role=\"img\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\" font-family=\"system-ui, sans-serif\">\
         <title>{}</title>\
         <line x1=\"{label_w}\" x2=\"{label_w}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#98a2b3\"/>",
        escape(title),
        height - top
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = plot_w * (v.max(0.0) / max).min(1.0);
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#1d2330\">{}</text>\
             <rect x=\"{label_w}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1d2330\">{}</text>",
            label_w - 6.0,
            y + row_h / 2.0 + 4.0,
            escape(label),
            y + 4.0,
            row_h - 8.0,
            colour(0),
            label_w + w + 6.0,
            y + row_h / 2.0 + 4.0,
            escape(&value_format(*v))
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        assert_eq!(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
        let s = vec![Series { name: "<script>".into(), values: vec![1.0, 2.0] }];
        let labels = vec!["a&b".to_owned(), "c".to_owned()];
        for svg in [
            stacked_bars("t<", &labels, &s, |v| format!("{v}")),
            lines("t<", &labels, &s, Some(1.0), |v| format!("{v}")),
            horizontal_bars("t<", &[("<x>".into(), 3.0)], |v| format!("{v}")),
        ] {
            assert!(!svg.contains("<script>") && !svg.contains("t<<") && !svg.contains("<x>"), "{svg}");
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        }
    }

    #[test]
    fn scales_round_up_to_readable_ticks() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(100.0), 100.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
    }

    #[test]
    fn stacked_bars_draw_a_segment_per_nonzero_value() {
        let s = vec![
            Series { name: "web".into(), values: vec![2.0, 0.0, 1.0] },
            Series { name: "pos".into(), values: vec![1.0, 0.0, 0.0] },
        ];
        let labels: Vec<String> = ["d1", "d2", "d3"].iter().map(|s| (*s).to_owned()).collect();
        let svg = stacked_bars("orders", &labels, &s, |v| format!("{v:.0}"));
        assert_eq!(svg.matches("<rect").count(), 3 + 2, "three segments and two legend keys");
        assert!(svg.contains("<title>d1: web 2</title>") && svg.contains("<title>d1: pos 1</title>"), "{svg}");
    }
}
