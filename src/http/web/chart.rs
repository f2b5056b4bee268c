//! The situatieplaat as SVG, rendered on the server: scores per perspective over time, the lines at
//! 6 (directe veiligheid) and 8 (stabiele veiligheid), signals as markers (acute ones distinct in
//! shape as well as colour), alerts and decisions in a lane above, phases as background bands.
//! Text alternatives (`title`, `desc`, a `title` per point) make it readable with a screen reader.

use std::fmt::Write;

use crate::domain::{Instant, amsterdam};

pub(crate) struct Chart<'a> {
    pub(crate) from_ms: i64,
    pub(crate) to_ms: i64,
    pub(crate) series: Vec<Series<'a>>,
    pub(crate) signals: Vec<Marker<'a>>,
    pub(crate) alerts: Vec<Span<'a>>,
    pub(crate) decisions: Vec<Marker<'a>>,
    pub(crate) phases: Vec<Span<'a>>,
    pub(crate) title: &'a str,
}

pub(crate) struct Series<'a> {
    pub(crate) label: &'a str,
    pub(crate) points: Vec<(i64, u8)>,
}

pub(crate) struct Marker<'a> {
    pub(crate) at_ms: i64,
    pub(crate) label: &'a str,
    pub(crate) strong: bool,
}

pub(crate) struct Span<'a> {
    pub(crate) from_ms: i64,
    pub(crate) to_ms: Option<i64>,
    pub(crate) label: &'a str,
}

// Geometry (viewBox units).
const W: f64 = 800.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 790.0;
const LANE_TOP: f64 = 28.0; // alerts and decisions
const PLOT_TOP: f64 = 70.0;
const PLOT_BOTTOM: f64 = 290.0;
const SIGNAL_Y: f64 = 308.0;
const AXIS_Y: f64 = 330.0;
const H: f64 = 380.0;

/// Dark, distinguishable colours, each with its own dash pattern and point shape.
const STYLES: [(&str, &str); 5] = [
    ("#0b5394", ""),
    ("#7a4a00", "6 3"),
    ("#1e6b2f", "2 3"),
    ("#5b2a86", "8 3 2 3"),
    ("#3d3d3d", "1 2"),
];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
];

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

struct Scale {
    from: i64,
    span: f64,
}

impl Scale {
    fn x(&self, ms: i64) -> f64 {
        LEFT + (ms - self.from) as f64 / self.span * (RIGHT - LEFT)
    }

    fn y(value: u8) -> f64 {
        PLOT_BOTTOM - f64::from(value) / 10.0 * (PLOT_BOTTOM - PLOT_TOP)
    }
}

fn point_shape(out: &mut String, shape: usize, x: f64, y: f64, colour: &str, title: &str) {
    let t = format!("<title>{}</title>", escape(title));
    let _ = match shape % 3 {
        0 => write!(
            out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{colour}">{t}</circle>"#
        ),
        1 => write!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="{colour}">{t}</rect>"#,
            x - 4.0,
            y - 4.0
        ),
        _ => write!(
            out,
            r#"<path d="M{x:.1} {:.1} L{:.1} {y:.1} L{x:.1} {:.1} L{:.1} {y:.1} Z" fill="{colour}">{t}</path>"#,
            y - 5.0,
            x + 5.0,
            y + 5.0,
            x - 5.0
        ),
    };
}

/// Month starts in Europe/Amsterdam within the range, as (ms, label).
fn month_ticks(from: i64, to: i64) -> Vec<(i64, String)> {
    let mut ticks = Vec::new();
    let Ok(start) = Instant::from_millis(from) else {
        return ticks;
    };
    let first = start
        .timestamp()
        .to_zoned(amsterdam())
        .date()
        .first_of_month();
    let mut month = first;
    for _ in 0..240 {
        if let Ok(z) = month.to_zoned(amsterdam()) {
            let ms = z.timestamp().as_millisecond();
            if ms > to {
                break;
            }
            if ms >= from {
                ticks.push((
                    ms,
                    format!("{} {}", MONTHS[(month.month() - 1) as usize], month.year()),
                ));
            }
        }
        match month.checked_add(jiff::Span::new().months(1)) {
            Ok(next) => month = next,
            Err(_) => break,
        }
    }
    // Many months: label every second, third ... so the labels do not overlap.
    let step = ticks.len().div_ceil(12).max(1);
    ticks
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(_, t)| t)
        .collect()
}

pub(crate) fn render(c: &Chart<'_>) -> String {
    let scale = Scale {
        from: c.from_ms,
        span: (c.to_ms - c.from_ms).max(1) as f64,
    };
    let inside = |ms: i64| ms >= c.from_ms && ms <= c.to_ms;
    let scores: usize = c.series.iter().map(|s| s.points.len()).sum();
    let acute = c.signals.iter().filter(|s| s.strong).count();
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" role="img" aria-labelledby="chart-title chart-desc" style="font-family:system-ui,sans-serif;max-width:60rem"><title id="chart-title">{}</title><desc id="chart-desc">{} scores, {} signalen waarvan {} acuut, {} waarschuwingen en {} besluiten. Lijnen bij 6 (directe veiligheid) en 8 (stabiele veiligheid).</desc>"##,
        escape(c.title),
        scores,
        c.signals.len(),
        acute,
        c.alerts.len(),
        c.decisions.len()
    );
    // Phases behind everything.
    for (i, p) in c.phases.iter().enumerate() {
        let from = p.from_ms.max(c.from_ms);
        let to = p.to_ms.unwrap_or(c.to_ms).min(c.to_ms);
        if to <= from {
            continue;
        }
        let (x1, x2) = (scale.x(from), scale.x(to));
        let fill = if i % 2 == 0 { "#f2f2f2" } else { "#e6eef7" };
        let _ = write!(
            out,
            r##"<rect x="{x1:.1}" y="{PLOT_TOP}" width="{:.1}" height="{:.1}" fill="{fill}"><title>Fase: {}</title></rect><text x="{:.1}" y="{}" font-size="10" fill="#3d3d3d">{}</text>"##,
            x2 - x1,
            PLOT_BOTTOM - PLOT_TOP,
            escape(p.label),
            x1 + 3.0,
            PLOT_TOP + 11.0,
            escape(p.label)
        );
    }
    // Y axis: 0..10, with the two reference lines.
    for v in (0..=10u8).step_by(2) {
        let y = Scale::y(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#d0d0d0"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#1b1b1b">{v}</text>"##,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (v, label, colour) in [
        (6u8, "directe veiligheid (6)", "#a4001d"),
        (8u8, "stabiele veiligheid (8)", "#1e6b2f"),
    ] {
        let y = Scale::y(v);
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="8 4"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="{colour}">{label}</text>"#,
            RIGHT - 2.0,
            y - 4.0
        );
    }
    // X axis with month ticks.
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{AXIS_Y}" x2="{RIGHT}" y2="{AXIS_Y}" stroke="#1b1b1b"/>"##
    );
    for (ms, label) in month_ticks(c.from_ms, c.to_ms) {
        let x = scale.x(ms);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{AXIS_Y}" x2="{x:.1}" y2="{}" stroke="#1b1b1b"/><text x="{x:.1}" y="{}" font-size="11" text-anchor="middle" fill="#1b1b1b">{}</text>"##,
            AXIS_Y + 5.0,
            AXIS_Y + 18.0,
            escape(&label)
        );
    }
    // Scores.
    if scores == 0 {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="14" text-anchor="middle" fill="#3d3d3d">Nog geen scores</text>"##,
            (LEFT + RIGHT) / 2.0,
            (PLOT_TOP + PLOT_BOTTOM) / 2.0
        );
    }
    for (i, s) in c.series.iter().enumerate() {
        let (colour, dash) = STYLES[i % STYLES.len()];
        let points: Vec<(f64, f64, u8, i64)> = s
            .points
            .iter()
            .filter(|(ms, _)| inside(*ms))
            .map(|(ms, v)| (scale.x(*ms), Scale::y(*v), *v, *ms))
            .collect();
        if points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|(x, y, _, _)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = write!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>"#,
                path.join(" ")
            );
        }
        for (x, y, v, ms) in &points {
            let when = Instant::from_millis(*ms)
                .map(|t| t.local_date().to_wire())
                .unwrap_or_default();
            point_shape(
                &mut out,
                i,
                *x,
                *y,
                colour,
                &format!("{}: {v} ({when})", s.label),
            );
        }
    }
    // Signals: acute as filled red triangles, others as hollow circles.
    for s in c.signals.iter().filter(|s| inside(s.at_ms)) {
        let x = scale.x(s.at_ms);
        let t = escape(&format!(
            "{}{}",
            s.label,
            if s.strong { " — acuut" } else { "" }
        ));
        if s.strong {
            let _ = write!(
                out,
                r##"<path d="M{x:.1} {:.1} L{:.1} {:.1} L{:.1} {:.1} Z" fill="#a4001d"><title>{t}</title></path>"##,
                SIGNAL_Y - 7.0,
                x + 6.0,
                SIGNAL_Y + 5.0,
                x - 6.0,
                SIGNAL_Y + 5.0
            );
        } else {
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{SIGNAL_Y}" r="5" fill="#fff" stroke="#1b1b1b" stroke-width="1.5"><title>{t}</title></circle>"##
            );
        }
    }
    // Alerts as bars and decisions as diamonds in the lane above the plot.
    for (i, a) in c.alerts.iter().enumerate() {
        let from = a.from_ms.max(c.from_ms);
        let to = a.to_ms.unwrap_or(c.to_ms).min(c.to_ms);
        if to < from {
            continue;
        }
        let y = LANE_TOP + (i % 4) as f64 * 8.0;
        let (x1, x2) = (scale.x(from), scale.x(to).max(scale.x(from) + 3.0));
        let _ = write!(
            out,
            r##"<rect x="{x1:.1}" y="{y:.1}" width="{:.1}" height="6" fill="#a4001d" opacity="0.8"><title>Waarschuwing: {}</title></rect>"##,
            x2 - x1,
            escape(a.label)
        );
    }
    for d in c.decisions.iter().filter(|d| inside(d.at_ms)) {
        let x = scale.x(d.at_ms);
        let y = LANE_TOP - 10.0;
        let _ = write!(
            out,
            r##"<path d="M{x:.1} {:.1} L{:.1} {y:.1} L{x:.1} {:.1} L{:.1} {y:.1} Z" fill="#0b5394"><title>Besluit: {}</title></path>"##,
            y - 5.0,
            x + 5.0,
            y + 5.0,
            x - 5.0,
            escape(d.label)
        );
    }
    // Legend.
    let mut x = LEFT;
    for (i, s) in c.series.iter().enumerate() {
        let (colour, dash) = STYLES[i % STYLES.len()];
        let _ = write!(
            out,
            r#"<line x1="{x:.1}" y1="{}" x2="{:.1}" y2="{}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>"#,
            H - 14.0,
            x + 20.0,
            H - 14.0
        );
        point_shape(&mut out, i, x + 10.0, H - 14.0, colour, s.label);
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{}" font-size="11" fill="#1b1b1b">{}</text>"##,
            x + 24.0,
            H - 10.0,
            escape(s.label)
        );
        x += 28.0 + 7.0 * s.label.chars().count() as f64;
    }
    let _ = write!(
        out,
        r##"<path d="M{x:.1} {} l6 12 h-12 Z" fill="#a4001d"/><text x="{:.1}" y="{}" font-size="11" fill="#1b1b1b">acuut signaal</text>"##,
        H - 20.0,
        x + 10.0,
        H - 10.0
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Instant>().unwrap().millis()
    }

    fn chart<'a>(series: Vec<Series<'a>>, signals: Vec<Marker<'a>>) -> Chart<'a> {
        Chart {
            from_ms: ms("2025-01-06T00:00:00+01:00"),
            to_ms: ms("2025-04-10T00:00:00+02:00"),
            series,
            signals,
            alerts: vec![Span {
                from_ms: ms("2025-02-17T00:00:00+01:00"),
                to_ms: None,
                label: "Geen directe veiligheid",
            }],
            decisions: vec![],
            phases: vec![],
            title: "Situatieplaat H-0001",
        }
    }

    /// Every opened tag is closed, in order.
    fn balanced(svg: &str) -> bool {
        let mut stack: Vec<String> = Vec::new();
        for part in svg.split('<').skip(1) {
            let tag = part.split('>').next().unwrap_or_default();
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name.trim()) {
                    return false;
                }
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap_or_default().to_owned());
            }
        }
        stack.is_empty()
    }

    #[test]
    fn draws_the_reference_lines_and_a_six_on_the_six_line() {
        let svg = render(&chart(
            vec![Series {
                label: "Slachtoffer",
                points: vec![(ms("2025-02-01T10:00:00+01:00"), 6)],
            }],
            vec![],
        ));
        assert!(svg.contains("directe veiligheid (6)") && svg.contains("stabiele veiligheid (8)"));
        let six = format!("y1=\"{:.1}\"", Scale::y(6));
        assert!(svg.contains(&six));
        assert!(svg.contains(&format!("cy=\"{:.1}\"", Scale::y(6))));
        assert!(balanced(&svg), "{svg}");
    }

    #[test]
    fn months_are_dutch() {
        let svg = render(&chart(vec![], vec![]));
        for m in ["feb 2025", "mrt 2025", "apr 2025"] {
            assert!(svg.contains(m), "{m}");
        }
        assert!(svg.contains("Nog geen scores"));
    }

    #[test]
    fn acute_signals_differ_and_text_is_escaped() {
        let svg = render(&chart(
            vec![Series {
                label: "<script>&",
                points: vec![(ms("2025-02-01T10:00:00+01:00"), 3)],
            }],
            vec![
                Marker {
                    at_ms: ms("2025-02-02T10:00:00+01:00"),
                    label: "Melding",
                    strong: true,
                },
                Marker {
                    at_ms: ms("2025-02-03T10:00:00+01:00"),
                    label: "Zorgsignaal",
                    strong: false,
                },
            ],
        ));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;&amp;"));
        assert!(svg.contains("Melding — acuut"));
        assert!(svg.contains("fill=\"#fff\""));
        assert!(balanced(&svg), "{svg}");
    }

    #[test]
    fn an_empty_range_does_not_divide_by_zero() {
        let mut c = chart(
            vec![Series {
                label: "X",
                points: vec![(0, 5)],
            }],
            vec![],
        );
        c.from_ms = 0;
        c.to_ms = 0;
        let svg = render(&c);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
