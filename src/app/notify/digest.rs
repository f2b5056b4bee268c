//! The weekly digest for gemeente monitors: what they watch, as counts per gemeente and wijk of
//! the week that ended, under disclosure control ([`crate::app::disclosure`]). Monitors see
//! aggregates only (DESIGN.md section 2): their webhooks get this digest instead of one message
//! per alert, whose timing alone could single out a household in a small wijk.
//!
//! One digest per endpoint per ISO week, queued once the week is over (its message id
//! `digest_<endpoint>_<year>-W<week>` makes queuing it again a no-op). Documented in
//! `docs/webhooks.md`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::app::AppState;
use crate::app::disclosure::protect;
use crate::domain::{Event, Instant, Region, SignalKind, amsterdam};
use crate::store::notify::digest::{self, Place};
use crate::store::{self, StoreError};

/// What each digest counts, in this order.
pub const COLUMNS: [&str; 3] = ["ogen_en_oren", "meldingen", "voortijdig_loslaten"];

#[derive(Debug, Serialize)]
struct Digest {
    #[serde(rename = "type")]
    kind: &'static str,
    /// `null` for an endpoint of every region.
    region: Option<&'static str>,
    week: String,
    from: Instant,
    to: Instant,
    columns: [&'static str; 3],
    gemeenten: Vec<GemeenteDigest>,
}

#[derive(Debug, Serialize)]
struct GemeenteDigest {
    gemeente: String,
    rows: Vec<WijkRow>,
    totals: Vec<String>,
    total: String,
}

#[derive(Debug, Serialize)]
struct WijkRow {
    wijk: String,
    counts: Vec<String>,
    total: String,
}

/// The ISO week before the one `now` is in, in Europe/Amsterdam: its start, its end, its name.
pub fn last_week(now: Instant) -> (Instant, Instant, String) {
    let today = now.timestamp().to_zoned(amsterdam()).date();
    let monday = today - jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset()));
    let previous = monday - jiff::Span::new().weeks(1);
    let start = |d: jiff::civil::Date| {
        Instant::from_timestamp(
            d.to_zoned(amsterdam())
                .expect("every date in range has a start of day")
                .timestamp(),
        )
    };
    let iso = previous.iso_week_date();
    (
        start(previous),
        start(monday),
        format!("{}-W{:02}", iso.year(), iso.week()),
    )
}

/// Queues last week's digest for every monitor endpoint that has not had it; how many.
pub async fn enqueue_weekly(state: &AppState, now: Instant) -> Result<usize, StoreError> {
    let (from, to, week) = last_week(now);
    let mut conn = state.db.acquire().await?;
    let mut due = Vec::new();
    for (endpoint, region) in digest::monitor_endpoints(&mut conn).await? {
        let id = format!("digest_{endpoint}_{week}");
        if !digest::queued(&mut conn, &id).await? {
            due.push((endpoint, region, id));
        }
    }
    drop(conn);
    if due.is_empty() {
        return Ok(0);
    }
    let mut tx = state.db.begin_write().await?;
    let mut queued = 0;
    for (endpoint, region, id) in due {
        let body = build(&mut tx, state.db.keys(), region, from, to, &week).await?;
        let payload = serde_json::to_string(&body).map_err(|e| store::corrupt("digest", e))?;
        if digest::enqueue_once(&mut tx, &id, endpoint, &payload, now).await? {
            queued += 1;
        }
    }
    tx.commit().await?;
    if queued > 0 {
        state.outbox.notify_one();
    }
    Ok(queued)
}

async fn build(
    conn: &mut store::Conn,
    keys: &store::crypt::Keys,
    region: Option<Region>,
    from: Instant,
    to: Instant,
    week: &str,
) -> Result<Digest, StoreError> {
    // Per gemeente, per wijk, the three counts.
    let mut counts: BTreeMap<String, BTreeMap<String, [usize; 3]>> = BTreeMap::new();
    let mut add = |place: &Place, column: usize| {
        let wijk = place.wijk.clone().unwrap_or_else(|| "onbekend".to_owned());
        counts
            .entry(place.gemeente.clone())
            .or_default()
            .entry(wijk)
            .or_default()[column] += 1;
    };
    for (place, event) in digest::signals(conn, keys, region, from, to).await? {
        if let Event::Signal(s) = event {
            if s.source.is_neighbourhood() {
                add(&place, 0);
            }
            if s.kind == SignalKind::Melding {
                add(&place, 1);
            }
        }
    }
    for place in digest::fired(conn, region, "voortijdig-loslaten", from, to).await? {
        add(&place, 2);
    }
    let gemeenten = counts
        .into_iter()
        .map(|(gemeente, wijken)| {
            let names: Vec<String> = wijken.keys().cloned().collect();
            let table: Vec<Vec<usize>> = wijken.values().map(|c| c.to_vec()).collect();
            let p = protect(&table);
            GemeenteDigest {
                gemeente,
                rows: names
                    .into_iter()
                    .enumerate()
                    .map(|(i, wijk)| WijkRow {
                        wijk,
                        counts: p.cells[i].iter().map(|c| c.label()).collect(),
                        total: p.row_totals[i].label(),
                    })
                    .collect(),
                totals: p.column_totals.iter().map(|c| c.label()).collect(),
                total: p.total.label(),
            }
        })
        .collect();
    Ok(Digest {
        kind: "digest",
        region: region.map(Region::as_str),
        week: week.to_owned(),
        from,
        to,
        columns: COLUMNS,
        gemeenten,
    })
}
