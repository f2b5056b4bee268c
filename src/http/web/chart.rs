//! The situatieplaat as SVG, rendered on the server. From top to bottom: one lane per alert rule
//! (a bar while it fired, a diamond for each decision), the phase, the step of the escalation
//! ladder, the scores per perspective over time with the lines at 6 (directe veiligheid) and 8
//! (stabiele veiligheid) beneath them, and the signals (acute ones filled). Each perspective has
//! one colour, line and marker everywhere ([`perspective_style`]); the legend and the text
//! equivalent (a table) are HTML beside the SVG, built from the same styles.

use std::fmt::Write;

use maud::{Markup, PreEscaped, html};

use crate::domain::{Instant, Perspective, amsterdam};
use crate::engine::Phase;

pub(crate) struct Chart<'a> {
    pub(crate) from_ms: i64,
    pub(crate) to_ms: i64,
    /// Now: what still holds (an open alert, the current phase) is drawn up to here, and a
    /// range that reaches past it marks it.
    pub(crate) now_ms: i64,
    pub(crate) series: Vec<Series>,
    pub(crate) signals: Vec<Signal<'a>>,
    pub(crate) alerts: Vec<AlertLane<'a>>,
    pub(crate) phases: Vec<Band<Phase>>,
    /// Steps of the escalation ladder (1 to 3) over time.
    pub(crate) steps: Vec<Band<u8>>,
    pub(crate) title: &'a str,
}

/// The scores of one perspective, as (time, value).
pub(crate) struct Series {
    pub(crate) perspective: Perspective,
    pub(crate) points: Vec<(i64, u8)>,
}

pub(crate) struct Signal<'a> {
    pub(crate) at_ms: i64,
    pub(crate) label: &'a str,
    pub(crate) acute: bool,
}

/// One rule's lane: when it fired (until it resolved, or still) and the decisions on it.
pub(crate) struct AlertLane<'a> {
    pub(crate) label: &'a str,
    pub(crate) firings: Vec<(i64, Option<i64>)>,
    pub(crate) decisions: Vec<(i64, &'a str)>,
}

/// A value that holds from `from_ms` until `to_ms` (or the end of the chart).
pub(crate) struct Band<T> {
    pub(crate) from_ms: i64,
    pub(crate) to_ms: Option<i64>,
    pub(crate) value: T,
}

/// How a perspective is drawn: an Okabe–Ito hue (safe for the common kinds of colour blindness),
/// darkened where needed to keep 3:1 against the white and the phase shading, with its own line
/// pattern and marker so that colour is never the only difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Style {
    pub(crate) colour: &'static str,
    pub(crate) dash: &'static str,
    pub(crate) marker: Marker,
    /// The short name in the chart and its legend.
    pub(crate) name: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    Diamond,
    TriangleUp,
    TriangleDown,
}

/// The one style of each perspective, on every household.
pub(crate) fn perspective_style(p: Perspective) -> Style {
    match p {
        // Okabe–Ito vermillion #D55E00, darkened.
        Perspective::Slachtoffer => Style {
            colour: "#b54d00",
            dash: "",
            marker: Marker::Circle,
            name: "Slachtoffer",
        },
        // Okabe–Ito reddish purple #CC79A7, darkened.
        Perspective::Pleger => Style {
            colour: "#a8528a",
            dash: "9 4",
            marker: Marker::Square,
            name: "Pleger",
        },
        // Okabe–Ito blue.
        Perspective::Casemanager => Style {
            colour: "#0072b2",
            dash: "3 3",
            marker: Marker::Diamond,
            name: "Casemanager",
        },
        // Okabe–Ito bluish green #009E73, darkened.
        Perspective::Professional => Style {
            colour: "#007a5a",
            dash: "10 3 2 3",
            marker: Marker::TriangleUp,
            name: "Professional",
        },
        // Okabe–Ito black.
        Perspective::Netwerk => Style {
            colour: "#000000",
            dash: "1 4",
            marker: Marker::TriangleDown,
            name: "Netwerk",
        },
    }
}

/// The shading of a phase, its short label in the phase lane, and its name in the legend.
fn phase_look(p: Phase) -> (&'static str, &'static str) {
    match p {
        Phase::AcuteOnveiligheid => ("#f8dcdc", "1"),
        Phase::DirecteVeiligheid => ("#fcefc7", "2"),
        Phase::StabieleVeiligheid => ("#d9efe0", "3"),
        Phase::Afgesloten => ("#e4e4e4", "afgesloten"),
    }
}

/// The fill and text colour of a step of the escalation ladder.
fn step_look(step: u8) -> (&'static str, &'static str) {
    match step {
        1 => ("#ffffff", "#1b1b1b"),
        2 => ("#c9c3dd", "#1b1b1b"),
        _ => ("#4b3f72", "#ffffff"),
    }
}

const ACUTE: &str = "#a4001d";
const INK: &str = "#1b1b1b";
const MUTED: &str = "#4a4a4a";
const ALERT_OPEN: &str = "#a4001d";
const ALERT_RESOLVED: &str = "#8a8a8a";
const DECISION: &str = "#0b5394";

// Geometry in viewBox units. The SVG is at least 640 px wide (a phone scrolls it sideways), so
// a unit is never less than 0.89 px and 12-unit text never smaller than 10.7 px.
const W: f64 = 720.0;
const LEFT: f64 = 34.0;
const RIGHT: f64 = W - 12.0;
const FONT: f64 = 12.0;
/// A lane: a caption line, then the bar or markers.
const CAPTION: f64 = 15.0;
const ALERT_ROW: f64 = 26.0;
const BAND: f64 = 18.0;
const PLOT: f64 = 210.0;
const SIGNAL_LANE: f64 = 24.0;
const AXIS: f64 = 34.0;
/// Average width of a character of 12-unit system-ui text, to see whether a label fits.
const CHAR: f64 = 6.6;

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
    to: i64,
    now: i64,
    span: f64,
}

impl Scale {
    fn new(from: i64, to: i64, now: i64) -> Self {
        let to = to.max(from + 1);
        Scale {
            from,
            to,
            now,
            span: (to - from) as f64,
        }
    }

    fn x(&self, ms: i64) -> f64 {
        LEFT + (ms.clamp(self.from, self.to) - self.from) as f64 / self.span * (RIGHT - LEFT)
    }

    fn inside(&self, ms: i64) -> bool {
        ms >= self.from && ms <= self.to
    }

    /// The visible part of `[from, to)`, if any; without an end it holds until now.
    fn clip(&self, from: i64, to: Option<i64>) -> Option<(f64, f64)> {
        let (a, b) = (from.max(self.from), to.unwrap_or(self.now).min(self.to));
        (b > a).then(|| (self.x(a), self.x(b)))
    }
}

fn y_of(top: f64, value: u8) -> f64 {
    top + PLOT - f64::from(value) / 10.0 * PLOT
}

/// A marker centred on (x, y), `r` units from centre to edge.
pub(crate) fn marker_svg(marker: Marker, x: f64, y: f64, r: f64, fill: &str) -> String {
    let common = format!(r##"fill="{fill}" stroke="#ffffff" stroke-width="1""##);
    match marker {
        Marker::Circle => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" {common}/>"#),
        Marker::Square => {
            let s = r * 0.9;
            format!(
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" {common}/>"#,
                x - s,
                y - s,
                2.0 * s,
                2.0 * s
            )
        }
        Marker::Diamond => {
            let d = r * 1.25;
            format!(
                r#"<path d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z" {common}/>"#,
                y - d,
                x + d,
                y + d,
                x - d
            )
        }
        Marker::TriangleUp | Marker::TriangleDown => {
            let d = r * 1.25;
            let s = if marker == Marker::TriangleUp {
                1.0
            } else {
                -1.0
            };
            format!(
                r#"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" {common}/>"#,
                y - s * d,
                x + d,
                y + s * d * 0.8,
                x - d,
                y + s * d * 0.8
            )
        }
    }
}

/// A small picture of a perspective's line and marker, for the legend and the summary cards.
pub(crate) fn swatch(style: Style) -> Markup {
    let svg = format!(
        r#"<svg class="swatch" viewBox="0 0 30 14" width="30" height="14" aria-hidden="true" focusable="false"><line x1="1" y1="7" x2="29" y2="7" stroke="{}" stroke-width="2.5" stroke-dasharray="{}"/>{}</svg>"#,
        style.colour,
        style.dash,
        marker_svg(style.marker, 15.0, 7.0, 4.5, style.colour)
    );
    html! { (PreEscaped(svg)) }
}

/// A small picture of any other legend item.
fn legend_svg(inner: &str) -> Markup {
    html! { (PreEscaped(format!(r#"<svg class="swatch" viewBox="0 0 30 14" width="30" height="14" aria-hidden="true" focusable="false">{inner}</svg>"#))) }
}

/// Ticks on the time axis within the range, as (ms, label): weeks (Mondays) for a short range,
/// months for a longer one, thinned so that labels never overlap.
fn ticks(from: i64, to: i64) -> Vec<(i64, String)> {
    let (Ok(start), Ok(_)) = (Instant::from_millis(from), Instant::from_millis(to)) else {
        return Vec::new();
    };
    let first = start.timestamp().to_zoned(amsterdam()).date();
    let weekly = to - from <= 70 * 86_400_000;
    let mut day = if weekly {
        let back = i64::from(first.weekday().to_monday_zero_offset());
        first
            .checked_sub(jiff::Span::new().days(back))
            .unwrap_or(first)
    } else {
        first.first_of_month()
    };
    let mut out = Vec::new();
    for _ in 0..2000 {
        if let Ok(z) = day.to_zoned(amsterdam()) {
            let ms = z.timestamp().as_millisecond();
            if ms > to {
                break;
            }
            if ms >= from {
                let month = MONTHS[(day.month() - 1) as usize];
                out.push((
                    ms,
                    if weekly {
                        format!("{} {month}", day.day())
                    } else {
                        format!("{month} {}", day.year())
                    },
                ));
            }
        }
        let step = if weekly {
            jiff::Span::new().weeks(1)
        } else {
            jiff::Span::new().months(1)
        };
        match day.checked_add(step) {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    // A label is about 8 characters: keep at least its width plus a gap between labels.
    let room = ((RIGHT - LEFT) / (9.0 * CHAR)).floor().max(1.0) as usize;
    let every = out.len().div_ceil(room).max(1);
    out.into_iter().step_by(every).collect()
}

/// Text with a white halo, so it stays readable over lines and shading.
fn label(out: &mut String, x: f64, y: f64, anchor: &str, fill: &str, weight: &str, text: &str) {
    let _ = write!(
        out,
        r##"<text x="{x:.1}" y="{y:.1}" font-size="{FONT}" text-anchor="{anchor}" fill="{fill}" font-weight="{weight}" paint-order="stroke" stroke="#ffffff" stroke-width="3" stroke-linejoin="round">{}</text>"##,
        escape(text)
    );
}

/// Whether a label of `text` fits in `width` units.
fn fits(text: &str, width: f64) -> bool {
    text.chars().count() as f64 * CHAR + 6.0 <= width
}

pub(crate) fn render(c: &Chart<'_>) -> String {
    let scale = Scale::new(c.from_ms, c.to_ms, c.now_ms);
    let scores: usize = c.series.iter().map(|s| s.points.len()).sum();
    let acute = c.signals.iter().filter(|s| s.acute).count();
    let decisions: usize = c.alerts.iter().map(|a| a.decisions.len()).sum();

    // Vertical layout, top to bottom.
    let alerts_top = 4.0;
    let alerts_height = if c.alerts.is_empty() {
        0.0
    } else {
        CAPTION + ALERT_ROW * c.alerts.len() as f64
    };
    let phase_top = alerts_top + alerts_height;
    let step_top = phase_top + CAPTION + BAND;
    let plot_top = step_top + CAPTION + BAND + 10.0;
    let signal_top = plot_top + PLOT + 8.0;
    let axis_y = signal_top + CAPTION + SIGNAL_LANE;
    let height = axis_y + AXIS;

    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height:.0}" width="100%" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui,sans-serif"><title id="chart-title">{}</title><desc id="chart-desc">{} scores, {} signalen waarvan {} acuut, {} waarschuwingsregels en {} besluiten. Lijnen bij 6 (directe veiligheid) en 8 (stabiele veiligheid). De tabel onder de grafiek geeft dezelfde gegevens als tekst.</desc>"##,
        escape(c.title),
        scores,
        c.signals.len(),
        acute,
        c.alerts.len(),
        decisions,
    );

    // Alerts: one lane per rule, its name above its bars and decisions.
    if !c.alerts.is_empty() {
        label(
            &mut out,
            LEFT,
            alerts_top + 11.0,
            "start",
            INK,
            "600",
            "Waarschuwingen en besluiten",
        );
    }
    for (i, lane) in c.alerts.iter().enumerate() {
        let top = alerts_top + CAPTION + i as f64 * ALERT_ROW;
        let bar_y = top + 14.0;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{:.1}" x2="{RIGHT}" y2="{:.1}" stroke="#e0e0e0"/>"##,
            bar_y + 4.0,
            bar_y + 4.0
        );
        for (from, to) in &lane.firings {
            let Some((x1, x2)) = scale.clip(*from, *to).or_else(|| {
                // A firing shorter than a unit still shows.
                scale
                    .inside(*from)
                    .then(|| (scale.x(*from), scale.x(*from)))
            }) else {
                continue;
            };
            let colour = if to.is_some() {
                ALERT_RESOLVED
            } else {
                ALERT_OPEN
            };
            let _ = write!(
                out,
                r#"<rect x="{x1:.1}" y="{bar_y:.1}" width="{:.1}" height="8" rx="2" fill="{colour}"/>"#,
                (x2 - x1).max(4.0)
            );
        }
        for (at, _) in lane.decisions.iter().filter(|(at, _)| scale.inside(*at)) {
            out.push_str(&marker_svg(
                Marker::Diamond,
                scale.x(*at),
                bar_y + 4.0,
                5.0,
                DECISION,
            ));
        }
        label(&mut out, LEFT, top + 10.0, "start", INK, "400", lane.label);
    }

    // The phase lane and the escalation ladder lane.
    label(
        &mut out,
        LEFT,
        phase_top + 11.0,
        "start",
        INK,
        "600",
        "Fase",
    );
    for band in &c.phases {
        let Some((x1, x2)) = scale.clip(band.from_ms, band.to_ms) else {
            continue;
        };
        let (fill, short) = phase_look(band.value);
        let y = phase_top + CAPTION;
        let _ = write!(
            out,
            r##"<rect x="{x1:.1}" y="{y:.1}" width="{:.1}" height="{BAND}" fill="{fill}" stroke="#ffffff"/>"##,
            x2 - x1
        );
        let text = if fits(band.value.label(), x2 - x1) {
            band.value.label()
        } else {
            short
        };
        if fits(text, x2 - x1) {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="{FONT}" fill="{INK}">{}</text>"#,
                x1 + 3.0,
                y + 13.0,
                escape(text)
            );
        }
    }
    label(
        &mut out,
        LEFT,
        step_top + 11.0,
        "start",
        INK,
        "600",
        "Escalatieladder",
    );
    for band in &c.steps {
        let Some((x1, x2)) = scale.clip(band.from_ms, band.to_ms) else {
            continue;
        };
        let (fill, ink) = step_look(band.value);
        let y = step_top + CAPTION;
        let _ = write!(
            out,
            r##"<rect x="{x1:.1}" y="{y:.1}" width="{:.1}" height="{BAND}" fill="{fill}" stroke="#6b6b6b"/>"##,
            x2 - x1
        );
        let long = format!("Trede {}", band.value);
        let short = band.value.to_string();
        if let Some(text) = [long.as_str(), short.as_str()]
            .into_iter()
            .find(|t| fits(t, x2 - x1))
        {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="{FONT}" fill="{ink}">{text}</text>"#,
                x1 + 3.0,
                y + 13.0
            );
        }
    }

    // The plot: phase shading first, then the grid, then the 6 and 8 lines, then the data on top.
    for band in &c.phases {
        if let Some((x1, x2)) = scale.clip(band.from_ms, band.to_ms) {
            let (fill, _) = phase_look(band.value);
            let _ = write!(
                out,
                r#"<rect x="{x1:.1}" y="{plot_top:.1}" width="{:.1}" height="{PLOT}" fill="{fill}" fill-opacity="0.55"/>"#,
                x2 - x1
            );
        }
    }
    for v in (0..=10u8).step_by(2) {
        let y = y_of(plot_top, v);
        let strong = v == 6 || v == 8;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#d4d4d4"/><text x="{:.1}" y="{:.1}" font-size="{FONT}" text-anchor="end" fill="{INK}" font-weight="{}">{v}</text>"##,
            LEFT - 6.0,
            y + 4.0,
            if strong { "700" } else { "400" }
        );
    }
    for (v, text, dash) in [
        (6u8, "6 · directe veiligheid", "10 5"),
        (8u8, "8 · stabiele veiligheid", "4 4"),
    ] {
        let y = y_of(plot_top, v);
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="{MUTED}" stroke-width="1.5" stroke-dasharray="{dash}"/>"#
        );
        label(&mut out, RIGHT - 2.0, y - 4.0, "end", MUTED, "400", text);
    }
    let _ = write!(
        out,
        r#"<line x1="{LEFT}" y1="{plot_top:.1}" x2="{LEFT}" y2="{:.1}" stroke="{INK}"/>"#,
        plot_top + PLOT
    );
    if scores == 0 {
        label(
            &mut out,
            (LEFT + RIGHT) / 2.0,
            plot_top + PLOT / 2.0,
            "middle",
            MUTED,
            "400",
            "Nog geen scores",
        );
    }
    for s in &c.series {
        let style = perspective_style(s.perspective);
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|(ms, _)| scale.inside(*ms))
            .map(|(ms, v)| (scale.x(*ms), y_of(plot_top, *v)))
            .collect();
        if points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = write!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-dasharray="{}" stroke-linecap="round" stroke-linejoin="round"/>"#,
                path.join(" "),
                style.colour,
                style.dash
            );
        }
        for ((x, y), (ms, v)) in points
            .iter()
            .zip(s.points.iter().filter(|(ms, _)| scale.inside(*ms)))
        {
            let when = Instant::from_millis(*ms)
                .map(super::date)
                .unwrap_or_default();
            let _ = write!(
                out,
                "<g>{}<title>{}: {v} ({when})</title></g>",
                marker_svg(style.marker, *x, *y, 4.5, style.colour),
                style.name
            );
        }
    }

    // Signals in their lane under the plot.
    label(
        &mut out,
        LEFT,
        signal_top + 11.0,
        "start",
        INK,
        "600",
        "Signalen",
    );
    let sy = signal_top + CAPTION + 9.0;
    for s in c.signals.iter().filter(|s| scale.inside(s.at_ms)) {
        let x = scale.x(s.at_ms);
        let title = escape(&format!(
            "{}{} ({})",
            s.label,
            if s.acute { " — acuut onveilig" } else { "" },
            Instant::from_millis(s.at_ms)
                .map(super::date)
                .unwrap_or_default()
        ));
        if s.acute {
            let _ = write!(
                out,
                r##"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" fill="{ACUTE}" stroke="#ffffff" stroke-width="1"><title>{title}</title></path>"##,
                sy - 7.0,
                x + 7.0,
                sy + 5.5,
                x - 7.0,
                sy + 5.5
            );
        } else {
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{sy:.1}" r="5" fill="#ffffff" stroke="{INK}" stroke-width="2"><title>{title}</title></circle>"##
            );
        }
    }

    // Now, when the range reaches past it (a new household's first weeks).
    if c.now_ms < scale.to && scale.inside(c.now_ms) {
        let x = scale.x(c.now_ms);
        let _ = write!(
            out,
            r#"<line x1="{x:.1}" y1="{plot_top:.1}" x2="{x:.1}" y2="{axis_y:.1}" stroke="{INK}" stroke-width="1.5"/>"#
        );
        label(
            &mut out,
            x + 4.0,
            plot_top + 14.0,
            "start",
            INK,
            "600",
            "nu",
        );
    }

    // The time axis.
    let _ = write!(
        out,
        r#"<line x1="{LEFT}" y1="{axis_y:.1}" x2="{RIGHT}" y2="{axis_y:.1}" stroke="{INK}"/>"#
    );
    for (ms, text) in ticks(scale.from, scale.to) {
        let x = scale.x(ms);
        let _ = write!(
            out,
            r#"<line x1="{x:.1}" y1="{axis_y:.1}" x2="{x:.1}" y2="{:.1}" stroke="{INK}"/><text x="{x:.1}" y="{:.1}" font-size="{FONT}" text-anchor="middle" fill="{INK}">{}</text>"#,
            axis_y + 5.0,
            axis_y + 19.0,
            escape(&text)
        );
    }
    out.push_str("</svg>");
    out
}

/// The legend: everything the chart draws, and only that.
pub(crate) fn legend(c: &Chart<'_>) -> Markup {
    let mut phases: Vec<Phase> = c.phases.iter().map(|b| b.value).collect();
    phases.sort();
    phases.dedup();
    let mut steps: Vec<u8> = c.steps.iter().map(|b| b.value).collect();
    steps.sort_unstable();
    steps.dedup();
    let resolved = c
        .alerts
        .iter()
        .any(|a| a.firings.iter().any(|(_, to)| to.is_some()));
    let open = c
        .alerts
        .iter()
        .any(|a| a.firings.iter().any(|(_, to)| to.is_none()));
    let decisions = c.alerts.iter().any(|a| !a.decisions.is_empty());
    let acute = c.signals.iter().any(|s| s.acute);
    let calm = c.signals.iter().any(|s| !s.acute);
    let line = |dash: &str| {
        legend_svg(&format!(
            r#"<line x1="1" y1="7" x2="29" y2="7" stroke="{MUTED}" stroke-width="1.5" stroke-dasharray="{dash}"/>"#
        ))
    };
    let block = |fill: &str, stroke: &str| {
        legend_svg(&format!(
            r#"<rect x="3" y="2" width="24" height="10" fill="{fill}" stroke="{stroke}"/>"#
        ))
    };
    html! {
        ul.legend aria-label="Legenda" {
            @for s in &c.series {
                @let style = perspective_style(s.perspective);
                li { (swatch(style)) " " (style.name) }
            }
            li { (line("10 5")) " 6 · directe veiligheid" }
            li { (line("4 4")) " 8 · stabiele veiligheid" }
            @for p in &phases {
                li { (block(phase_look(*p).0, "#ffffff")) " Fase " (p.label()) }
            }
            @for s in &steps {
                li { (block(step_look(*s).0, "#6b6b6b")) " Trede " (s) }
            }
            @if open { li { (block(ALERT_OPEN, ALERT_OPEN)) " waarschuwing, nog open" } }
            @if resolved { li { (block(ALERT_RESOLVED, ALERT_RESOLVED)) " waarschuwing, opgelost" } }
            @if decisions { li { (legend_svg(&marker_svg(Marker::Diamond, 15.0, 7.0, 4.5, DECISION))) " besluit" } }
            @if acute {
                li { (legend_svg(&format!(r#"<path d="M15 0.5L22 12.5L8 12.5Z" fill="{ACUTE}"/>"#))) " signaal, acuut onveilig" }
            }
            @if calm {
                li { (legend_svg(&format!(r##"<circle cx="15" cy="7" r="5" fill="#ffffff" stroke="{INK}" stroke-width="2"/>"##))) " signaal" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Instant>().unwrap().millis()
    }

    fn chart<'a>(series: Vec<Series>, signals: Vec<Signal<'a>>) -> Chart<'a> {
        Chart {
            from_ms: ms("2025-01-06T00:00:00+01:00"),
            to_ms: ms("2025-04-10T00:00:00+02:00"),
            now_ms: ms("2025-04-10T00:00:00+02:00"),
            series,
            signals,
            alerts: vec![AlertLane {
                label: "Geen directe veiligheid",
                firings: vec![(ms("2025-02-17T00:00:00+01:00"), None)],
                decisions: vec![(ms("2025-02-18T10:00:00+01:00"), "Consult")],
            }],
            phases: vec![Band {
                from_ms: ms("2025-01-06T00:00:00+01:00"),
                to_ms: None,
                value: Phase::DirecteVeiligheid,
            }],
            steps: vec![Band {
                from_ms: ms("2025-01-06T00:00:00+01:00"),
                to_ms: None,
                value: 1,
            }],
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

    fn victim(points: Vec<(i64, u8)>) -> Series {
        Series {
            perspective: Perspective::Slachtoffer,
            points,
        }
    }

    #[test]
    fn the_reference_lines_lie_beneath_the_data() {
        let svg = render(&chart(
            vec![Series {
                perspective: Perspective::Casemanager,
                points: vec![
                    (ms("2025-02-01T10:00:00+01:00"), 6),
                    (ms("2025-03-01T10:00:00+01:00"), 6),
                ],
            }],
            vec![],
        ));
        assert!(svg.contains("6 · directe veiligheid") && svg.contains("8 · stabiele veiligheid"));
        let six_line = svg.find("stroke-dasharray=\"10 5\"").unwrap();
        let data = svg.find("<polyline").unwrap();
        assert!(
            six_line < data,
            "the 6-line is drawn before (under) the scores"
        );
        assert!(balanced(&svg), "{svg}");
    }

    #[test]
    fn a_perspective_looks_the_same_on_every_household() {
        let styles: Vec<Style> = Perspective::ALL
            .iter()
            .map(|p| perspective_style(*p))
            .collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(a.colour, b.colour);
                assert_ne!(a.marker, b.marker);
                assert_ne!(a.dash, b.dash);
            }
        }
        // Alone or with others, the casemanager is drawn in the same blue.
        let alone = render(&chart(
            vec![Series {
                perspective: Perspective::Casemanager,
                points: vec![(ms("2025-02-01T10:00:00+01:00"), 5)],
            }],
            vec![],
        ));
        assert!(alone.contains("#0072b2"));
    }

    #[test]
    fn every_line_and_marker_keeps_3_to_1_on_white_and_on_each_phase() {
        use crate::http::web::tests::contrast;
        let backgrounds: Vec<&str> = std::iter::once("#ffffff")
            .chain(Phase::ALL.iter().map(|p| phase_look(*p).0))
            .collect();
        for p in Perspective::ALL {
            for bg in &backgrounds {
                let ratio = contrast(perspective_style(*p).colour, bg);
                assert!(ratio >= 3.0, "{p:?} on {bg}: {ratio:.2}");
            }
        }
        for bg in &backgrounds {
            assert!(contrast(ACUTE, bg) >= 3.0 && contrast(INK, bg) >= 3.0);
        }
    }

    #[test]
    fn ticks_are_dutch_and_fit() {
        let svg = render(&chart(vec![], vec![]));
        for m in ["feb 2025", "mrt 2025", "apr 2025"] {
            assert!(svg.contains(m), "{m}");
        }
        assert!(svg.contains("Nog geen scores"));
        let week = ticks(
            ms("2025-01-06T00:00:00+01:00"),
            ms("2025-01-30T00:00:00+01:00"),
        );
        assert_eq!(week[0].1, "6 jan");
        let years = ticks(
            ms("2019-01-01T00:00:00+01:00"),
            ms("2025-12-31T00:00:00+01:00"),
        );
        assert!(years.len() <= ((RIGHT - LEFT) / (9.0 * CHAR)) as usize);
    }

    #[test]
    fn a_phase_label_is_shortened_rather_than_cut() {
        let mut c = chart(vec![], vec![]);
        c.phases = vec![
            Band {
                from_ms: ms("2025-01-06T00:00:00+01:00"),
                to_ms: Some(ms("2025-01-09T00:00:00+01:00")),
                value: Phase::AcuteOnveiligheid,
            },
            Band {
                from_ms: ms("2025-01-09T00:00:00+01:00"),
                to_ms: None,
                value: Phase::DirecteVeiligheid,
            },
        ];
        let svg = render(&c);
        assert!(
            svg.contains(">1</text>"),
            "a narrow band says only its number"
        );
        assert!(svg.contains(">2 · directe veiligheid</text>"));
    }

    #[test]
    fn acute_signals_differ_and_text_is_escaped() {
        let mut c = chart(
            vec![victim(vec![(ms("2025-02-01T10:00:00+01:00"), 3)])],
            vec![
                Signal {
                    at_ms: ms("2025-02-02T10:00:00+01:00"),
                    label: "Melding <script>&",
                    acute: true,
                },
                Signal {
                    at_ms: ms("2025-02-03T10:00:00+01:00"),
                    label: "Zorgsignaal",
                    acute: false,
                },
            ],
        );
        c.title = "<b>";
        let svg = render(&c);
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;&amp;"));
        assert!(svg.contains("acuut onveilig"));
        assert!(balanced(&svg), "{svg}");
        let legend = legend(&c).into_string();
        assert!(legend.contains("signaal, acuut onveilig") && legend.contains("Slachtoffer"));
        assert!(legend.contains("waarschuwing, nog open") && legend.contains("besluit"));
        assert!(legend.contains("Trede 1") && legend.contains("2 · directe veiligheid"));
    }

    #[test]
    fn an_empty_range_does_not_divide_by_zero() {
        let mut c = chart(vec![victim(vec![(0, 5)])], vec![]);
        c.from_ms = 0;
        c.to_ms = 0;
        c.now_ms = 0;
        let svg = render(&c);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
