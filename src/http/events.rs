//! The system feed, `POST /api/v1/events`: newline-delimited events from another system, each
//! line checked as the single-event routes check it and stored once (its identity, as in bulk
//! import), with a result per line.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, Problem};
use super::extractor::{Allowed, FeedEvents};
use crate::app::audit::{AuditAction, Origin};
use crate::app::import::{self, Course, Unit};
use crate::app::interchange::Rejection;
use crate::app::{AppError, access, events};
use crate::auth::policy::Action;
use crate::store::{self, StoreError};

/// At most this many bytes per request: 1 MiB, some thousands of events.
pub const MAX_BYTES: usize = 1 << 20;
/// At most this many lines per request: a batch a request can store well within its time limit.
pub const MAX_LINES: usize = 1000;

/// What became of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Stored now.
    Stored,
    /// Stored before (the same source `id`, or the same content): nothing new.
    Duplicate,
    /// Refused; `problem` says why.
    Rejected,
    /// Not stored because another line of its household was rejected: a household is stored whole.
    Skipped,
}

/// The result of one line.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineResult {
    /// Line number in the body, from 1.
    line: usize,
    status: LineStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<Problem>,
}

/// The results of a feed request, one per non-empty line, in line order.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedResult {
    stored: usize,
    duplicates: usize,
    rejected: usize,
    skipped: usize,
    lines: Vec<LineResult>,
}

/// Record events from another system: one event of the interchange format per line
/// (`application/x-ndjson`), each with `type` and `household`, and optionally `id`, the event's
/// id in the source system (unique per household). An event sent again (the same `id`, or without
/// one the same content) is stored once. Lines are grouped per household; each household's lines
/// are stored together, and not at all when one of them is rejected (its other lines answer
/// `skipped`). A household the caller may not write answers `404` on its lines, as one that does
/// not exist. A `household` line registers the household as `POST /households` does (the sender
/// is assigned to it); one that exists answers `409` "known" on its lines to whoever may not read
/// it. At most 1000 lines and 1 MiB per request (`413` beyond).
#[utoipa::path(post, path = "/api/v1/events", tag = "households",
    request_body(content = String, content_type = "application/x-ndjson",
                 description = "One interchange event per line"),
    responses((status = 200, body = FeedResult, description = "A result per line"),
              (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 413, body = Problem), (status = 415, body = Problem)))]
pub async fn feed(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<FeedEvents>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<FeedResult>, ApiError> {
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-ndjson"));
    if !ndjson {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(body, MAX_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_BYTES))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::invalid("", "the body must be UTF-8 text"))?;
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    if lines > MAX_LINES {
        return Err(ApiError::TooManyLines(MAX_LINES));
    }
    let batch = import::parse_json_lines(text);
    let mut results: Vec<LineResult> = Vec::new();
    let rejected = |r: Rejection| LineResult {
        line: r.line,
        status: LineStatus::Rejected,
        problem: Some(ApiError::App(AppError::invalid(r.field, r.reason)).problem()),
    };
    if !batch.unattributed.is_empty() {
        // A line that names no household could be any household's: store nothing.
        results.extend(batch.unattributed.iter().cloned().map(rejected));
        for unit in &batch.units {
            results.extend(lines_of(unit).map(skipped));
        }
        return Ok(Json(FeedResult::of(results)));
    }
    let now = state.clock.now();
    let rules = state.rules();
    let mut stored_any = false;
    for unit in &batch.units {
        let mut tx = state.db.begin_write().await?;
        // A `household` line registers the household as POST /households does (the sender is
        // assigned to it); one that exists is named as such only to whoever may read it.
        let mut registered: Option<usize> = None;
        let mut known = None;
        if let Some((n, given)) = &unit.opening
            && store::household(&mut tx, &given.id).await?.is_none()
        {
            match events::create_household(&mut tx, state.db.keys(), &rules, &who, given, now).await
            {
                Ok(Ok(_)) => registered = Some(*n),
                Ok(Err(refusal)) => known = Some(refusal),
                // The household line itself is wrong (a field, or the caller's own household's
                // reference): it says so, and its household's other lines wait for it.
                Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
                    drop(tx);
                    results.push(LineResult {
                        line: *n,
                        status: LineStatus::Rejected,
                        problem: Some(ApiError::App(e).problem()),
                    });
                    results.extend(lines_of(unit).filter(|l| l != n).map(skipped));
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let checked = match known {
            Some(refusal) => Err(refusal),
            // A household only registered here, with nothing else on it: stored as it is (an
            // admin registers households but writes none of their events).
            None if registered.is_some() && unit.lines.is_empty() && unit.rejected.is_empty() => {
                tx.commit().await.map_err(StoreError::from)?;
                stored_any = true;
                results.extend(lines_of(unit).map(|line| LineResult {
                    line,
                    status: LineStatus::Stored,
                    problem: None,
                }));
                continue;
            }
            None => access::household(
                &mut tx,
                &who,
                &unit.key,
                Action::WriteHousehold,
                AuditAction::EventCreate,
            )
            .await?
            .map_err(|refusal| match &unit.opening {
                // Registering a household that exists and is not theirs: it is known, no more.
                Some((_, given)) => access::known(&given.id),
                None => refusal,
            }),
        };
        if let Err(refusal) = checked {
            // Roll back first: on SQLite the refusal's audit row needs the write lock.
            drop(tx);
            let answer = ApiError::from(refusal.audit(&state, &who).await);
            if let ApiError::Internal(_) | ApiError::Busy = answer {
                return Err(answer);
            }
            let problem = answer.problem();
            // A line that does not parse is the sender's own mistake: it says so, whoever's
            // household it names.
            results.extend(unit.rejected.iter().cloned().map(rejected));
            let unparsed: Vec<usize> = unit.rejected.iter().map(|r| r.line).collect();
            results.extend(
                lines_of(unit)
                    .filter(|l| !unparsed.contains(l))
                    .map(|line| LineResult {
                        line,
                        status: LineStatus::Rejected,
                        problem: Some(problem.clone()),
                    }),
            );
            continue;
        }
        // A household registered above has its events stored as any existing household's.
        let events_only;
        let unit_to_store = match registered {
            Some(_) => {
                events_only = Unit {
                    opening: None,
                    ..unit.clone()
                };
                &events_only
            }
            None => unit,
        };
        let out = import::store_unit(
            &mut tx,
            state.db.keys(),
            &rules,
            Origin::Request(&who),
            unit_to_store,
            Course::Live,
            now,
        )
        .await?;
        if out.rejected.is_empty() {
            tx.commit().await.map_err(StoreError::from)?;
            stored_any |= out.stored > 0;
        } else {
            tx.rollback().await.map_err(StoreError::from)?;
        }
        let mut rejected_lines: Vec<usize> = Vec::new();
        for r in out.rejected.iter().cloned() {
            rejected_lines.push(r.line);
            results.push(rejected(r));
        }
        for line in lines_of(unit).filter(|l| !rejected_lines.contains(l)) {
            let status = if !rejected_lines.is_empty() {
                LineStatus::Skipped
            } else if out.duplicates.contains(&line) {
                LineStatus::Duplicate
            } else {
                LineStatus::Stored
            };
            results.push(LineResult {
                line,
                status,
                problem: None,
            });
        }
    }
    if stored_any {
        state.notified();
    }
    Ok(Json(FeedResult::of(results)))
}

/// The line numbers of a household's lines.
fn lines_of(unit: &Unit) -> impl Iterator<Item = usize> + '_ {
    let parsed = unit.lines.iter().map(|l| l.number);
    let failed = unit.rejected.iter().map(|r| r.line);
    let opening = unit.opening.iter().map(|(n, _)| *n);
    let mut all: Vec<usize> = opening.chain(parsed).chain(failed).collect();
    all.sort_unstable();
    all.dedup();
    all.into_iter()
}

fn skipped(line: usize) -> LineResult {
    LineResult {
        line,
        status: LineStatus::Skipped,
        problem: None,
    }
}

impl FeedResult {
    fn of(mut lines: Vec<LineResult>) -> Self {
        lines.sort_by_key(|l| l.line);
        let count = |s: LineStatus| lines.iter().filter(|l| l.status == s).count();
        FeedResult {
            stored: count(LineStatus::Stored),
            duplicates: count(LineStatus::Duplicate),
            rejected: count(LineStatus::Rejected),
            skipped: count(LineStatus::Skipped),
            lines,
        }
    }
}
