//! Charts as SVG made on the server: stacked bars of counts per time bucket
//! (findings by severity, records by table). No script, no inline style:
//! colours come from the stylesheet through each series' class.

use std::fmt::Write;

/// One bar: its label and a count per series (in the chart's series order).
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub counts: Vec<u64>,
}

/// A stacked bar chart.
#[derive(Debug, Clone)]
pub struct StackedBars {
    /// Accessible title.
    pub title: String,
    /// Each series' name, also its CSS class (`series-<name>`).
    pub series: Vec<String>,
    pub bars: Vec<Bar>,
}

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 10.0;

impl StackedBars {
    /// The chart as an `<svg>` element.
    pub fn svg(&self) -> String {
        let max = self
            .bars
            .iter()
            .map(|b| b.counts.iter().sum::<u64>())
            .max()
            .unwrap_or(0)
            .max(1);
        let plot_h = HEIGHT - BOTTOM - TOP;
        let plot_w = WIDTH - LEFT - 8.0;
        let slot = plot_w / self.bars.len().max(1) as f64;
        let bar_w = (slot * 0.8).max(1.0);
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
            escape(&self.title),
            escape(&self.title)
        );
        // The axis: zero and the maximum.
        let _ = write!(
            out,
            r#"<line class="axis" x1="{LEFT}" y1="{y0}" x2="{x1}" y2="{y0}"/><text class="tick" x="{tx}" y="{y0}" text-anchor="end">0</text><text class="tick" x="{tx}" y="{ymax}" text-anchor="end">{max}</text>"#,
            y0 = TOP + plot_h,
            x1 = WIDTH - 8.0,
            tx = LEFT - 6.0,
            ymax = TOP + 10.0,
        );
        // At most ~12 labels along the bottom.
        let label_every = self.bars.len().div_ceil(12).max(1);
        for (i, bar) in self.bars.iter().enumerate() {
            let x = LEFT + i as f64 * slot + (slot - bar_w) / 2.0;
            let mut y = TOP + plot_h;
            for (series, &count) in self.series.iter().zip(&bar.counts) {
                if count == 0 {
                    continue;
                }
                let h = plot_h * count as f64 / max as f64;
                y -= h;
                let _ = write!(
                    out,
                    r#"<rect class="series-{}" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}"><title>{}: {} {count}</title></rect>"#,
                    escape(series),
                    escape(&bar.label),
                    escape(series)
                );
            }
            if i % label_every == 0 {
                let _ = write!(
                    out,
                    r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    x + bar_w / 2.0,
                    HEIGHT - 8.0,
                    escape(&bar.label)
                );
            }
        }
        out.push_str("</svg>");
        out
    }
}

/// Text for SVG/HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_stacked_to_scale_and_labels_escaped() {
        let chart = StackedBars {
            title: "t".into(),
            series: vec!["high".into(), "low".into()],
            bars: vec![
                Bar {
                    label: "<d1>".into(),
                    counts: vec![2, 2],
                },
                Bar {
                    label: "d2".into(),
                    counts: vec![0, 1],
                },
            ],
        };
        let svg = chart.svg();
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("&lt;d1&gt;") && !svg.contains("<d1>"));
        // The tallest bar spans the plot: 4 of 4.
        let full = format!("height=\"{:.1}\"", (HEIGHT - BOTTOM - TOP) / 2.0);
        assert_eq!(svg.matches(&full).count(), 2);
    }
}
