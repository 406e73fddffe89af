//! A dataset's chart as accessible SVG: `role="img"` with a `<title>` and a `<desc>` that
//! sums the data up in words, labelled axes with round ticks, a line or bars. The points come
//! already downsampled (at most a few hundred).

use std::fmt::Write as _;

/// What a chart shows: points in order along x (already downsampled).
#[derive(Debug, Clone)]
pub struct ChartInput<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub bar: bool,
    /// `(x label, y)`.
    pub points: &'a [(String, f64)],
    /// How many rows the points stand for (more than `points.len()` when downsampled).
    pub rows: u64,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 32.0;
const BOTTOM: f64 = 56.0;

/// Where values land in the plot area.
struct Plot {
    /// The lowest and highest y tick.
    y0: f64,
    y1: f64,
    /// Number of points (at least 1).
    n: f64,
}

impl Plot {
    const W: f64 = WIDTH - LEFT - RIGHT;
    const H: f64 = HEIGHT - TOP - BOTTOM;

    fn x_at(&self, i: usize) -> f64 {
        LEFT + Self::W * (i as f64 + 0.5) / self.n
    }

    fn y_at(&self, y: f64) -> f64 {
        TOP + Self::H * (1.0 - (y - self.y0) / (self.y1 - self.y0))
    }
}

/// The chart as an SVG element with `role="img"`, a title, a description and labelled axes.
pub fn chart_svg(chart: &ChartInput<'_>) -> String {
    let points = chart.points;
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, y)| {
            (lo.min(*y), hi.max(*y))
        });
    let (lo, hi) = if points.is_empty() { (0.0, 1.0) } else { (lo, hi) };
    let (lo, hi) = if chart.bar {
        (lo.min(0.0), hi.max(0.0))
    } else {
        (lo, hi)
    };
    let ticks = nice_ticks(lo, hi, 5);
    let plot = Plot {
        y0: ticks[0],
        y1: ticks[ticks.len() - 1],
        n: points.len().max(1) as f64,
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc"><title id="chart-title">{}</title><desc id="chart-desc">{}</desc>"#,
        esc(chart.title),
        esc(&summary(chart, lo, hi))
    );
    y_axis(&mut svg, &plot, &ticks, chart.y_label);
    x_axis(&mut svg, &plot, points, chart.x_label);
    series(&mut svg, &plot, chart);
    svg.push_str("</svg>");
    svg
}

/// The chart in words, for screen readers: what against what, the range, first and last.
fn summary(chart: &ChartInput<'_>, lo: f64, hi: f64) -> String {
    let points = chart.points;
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return "No data.".to_owned();
    };
    let averaged = if chart.rows > points.len() as u64 {
        format!(", shown as {} averaged points", points.len())
    } else {
        String::new()
    };
    format!(
        "{} against {}: {} rows{averaged}, from {} ({}) to {} ({}); lowest {}, highest {}.",
        chart.y_label,
        chart.x_label,
        chart.rows,
        first.0,
        num(first.1),
        last.0,
        num(last.1),
        num(lo),
        num(hi)
    )
}

/// Grid lines with their values, and the axis label turned upright.
fn y_axis(svg: &mut String, plot: &Plot, ticks: &[f64], label: &str) {
    svg.push_str(r##"<g class="y-axis" font-size="11" fill="#333">"##);
    for t in ticks {
        let y = plot.y_at(*t);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&num(*t))
        );
    }
    svg.push_str("</g>");
    let _ = write!(
        svg,
        r##"<text class="y-label" transform="rotate(-90)" x="{:.1}" y="14" text-anchor="middle" font-size="12">{}</text>"##,
        -(TOP + Plot::H / 2.0),
        esc(label)
    );
}

/// Up to six evenly spaced ticks labelled with their x values, the axis line and its label.
fn x_axis(svg: &mut String, plot: &Plot, points: &[(String, f64)], label: &str) {
    let bottom = TOP + Plot::H;
    svg.push_str(r##"<g class="x-axis" font-size="11" fill="#333">"##);
    let x_ticks = 6.min(points.len());
    for k in 0..x_ticks {
        let i = if x_ticks == 1 {
            0
        } else {
            k * (points.len() - 1) / (x_ticks - 1)
        };
        let x = plot.x_at(i);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{bottom}" y2="{}" stroke="#333"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            bottom + 4.0,
            bottom + 18.0,
            esc(&points[i].0)
        );
    }
    svg.push_str("</g>");
    let _ = write!(
        svg,
        r##"<text class="x-label" x="{:.1}" y="{}" text-anchor="middle" font-size="12">{}</text><line x1="{LEFT}" x2="{}" y1="{bottom:.1}" y2="{bottom:.1}" stroke="#333"/>"##,
        LEFT + Plot::W / 2.0,
        HEIGHT - 10.0,
        esc(label),
        WIDTH - RIGHT
    );
}

/// The data: one bar per point from zero, or one polyline.
fn series(svg: &mut String, plot: &Plot, chart: &ChartInput<'_>) {
    if chart.bar {
        let w = (Plot::W / plot.n * 0.8).max(0.5);
        let base = plot.y_at(0.0_f64.clamp(plot.y0, plot.y1));
        svg.push_str(r##"<g class="bars" fill="#3b6ea8">"##);
        for (i, (_, y)) in chart.points.iter().enumerate() {
            let top = plot.y_at(*y);
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{:.1}"/>"#,
                plot.x_at(i) - w / 2.0,
                top.min(base),
                (top - base).abs()
            );
        }
        svg.push_str("</g>");
    } else if !chart.points.is_empty() {
        svg.push_str(r##"<polyline class="line" fill="none" stroke="#3b6ea8" stroke-width="1.5" points=""##);
        for (i, (_, y)) in chart.points.iter().enumerate() {
            let _ = write!(svg, "{:.1},{:.1} ", plot.x_at(i), plot.y_at(*y));
        }
        svg.push_str(r#""/>"#);
    }
}

/// About `count` round tick values covering `lo..=hi`.
fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let (lo, hi) = if (hi - lo).abs() < f64::EPSILON {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / count as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut t = start;
    while t < hi + step * 0.999 && ticks.len() < 50 {
        ticks.push(t);
        t += step;
    }
    if ticks.len() < 2 {
        ticks.push(start + step);
    }
    ticks
}

fn num(v: f64) -> String {
    if v.fract().abs() < 1e-9 && v.abs() < 1e15 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_labelled_and_has_ticks() {
        let points: Vec<(String, f64)> = (0..10)
            .map(|i| (format!("2026-01-{:02}", i + 1), i as f64 * 3.0))
            .collect();
        let svg = chart_svg(&ChartInput {
            title: "Daily <count>",
            x_label: "day",
            y_label: "count",
            bar: false,
            points: &points,
            rows: 1000,
        });
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"chart-title\">Daily &lt;count&gt;</title>"));
        assert!(svg.contains("shown as 10 averaged points"));
        assert!(svg.contains(">2026-01-01</text>") && svg.contains(">2026-01-10</text>"));
        assert!(svg.contains(">30</text>"), "{svg}");
        assert_eq!(svg.matches("<polyline").count(), 1);
        let bars = chart_svg(&ChartInput {
            bar: true,
            ..ChartInput {
                title: "t",
                x_label: "day",
                y_label: "count",
                bar: false,
                points: &points,
                rows: 10,
            }
        });
        assert_eq!(bars.matches("<rect").count(), 10);
        assert!(!bars.contains("averaged"));
        assert_eq!(nice_ticks(0.0, 27.0, 5), [0.0, 10.0, 20.0, 30.0]);
    }
}
