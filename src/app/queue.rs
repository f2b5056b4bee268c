//! A person's work queue: the open alerts of the households they work on, grouped per household
//! and most pressing first, or what they handled. Filtering, ordering and paging happen in the
//! store (`store::work_queue`); this checks who may ask and audits what was shown.

use super::audit::AuditAction;
use super::{AppError, AppState, access};
use crate::auth::Authenticated;
use crate::auth::policy::{self, Action};
use crate::domain::{HouseholdId, Severity};
use crate::store::{self, QueueFilter, QueueOwner, QueuePage, QueueTab};

/// Households on one page of the queue: a screenful of work on a desk, a few on a phone.
pub const HOUSEHOLDS_PER_PAGE: i64 = 20;

/// What a person asks of their queue, as they asked it (a page parses only the syntax).
#[derive(Debug, Clone, Default)]
pub struct QueueRequest {
    pub tab: QueueTab,
    pub severity: Option<Severity>,
    pub rule: Option<String>,
    /// As typed: it is checked like every household read.
    pub household: Option<String>,
    pub gemeente: Option<String>,
    /// From 1; out of range is the nearest page.
    pub page: i64,
}

/// The queue as shown.
#[derive(Debug, Clone)]
pub struct WorkQueue {
    pub page: QueuePage,
    /// The filter applied: a rule or gemeente that is not one of the choices is left out.
    pub filter: QueueFilter,
    /// Whether part of the request was left out that way.
    pub ignored: bool,
    /// All open and all handled alerts of the person's households, whatever the filter.
    pub open: i64,
    pub handled: i64,
    /// The gemeenten of the person's households, to choose from.
    pub gemeenten: Vec<String>,
}

/// The queue of `who` (a casemanager or a regisseur; others are refused, audited). A household
/// filter is checked like a household read: one the person may not see is audited as refused
/// and answered with an empty queue, exactly as one that does not exist or has no alerts.
pub async fn work_queue(
    app: &AppState,
    who: &Authenticated,
    request: &QueueRequest,
) -> Result<WorkQueue, AppError> {
    let Some(relation) = policy::working_relation(&who.actor) else {
        return Err(access::forbidden(AuditAction::AlertList)
            .audit(app, who)
            .await);
    };
    let owner = QueueOwner {
        user_id: who.actor.user_id,
        relation,
    };
    let mut conn = app.db.acquire().await?;
    let gemeenten = store::queue_gemeenten(&mut conn, owner).await?;
    let rules = app.rules();
    let rule = request.rule.clone().filter(|r| rules.title(r).is_some());
    let gemeente = request.gemeente.clone().filter(|g| gemeenten.contains(g));
    let ignored = rule != request.rule || gemeente != request.gemeente;
    let household: Option<Result<HouseholdId, _>> = match request.household.as_deref() {
        None => None,
        Some(raw) => Some(
            access::household(
                &mut conn,
                who,
                raw,
                Action::ReadHousehold,
                AuditAction::AlertList,
            )
            .await?,
        ),
    };
    let (open, _) =
        store::queue_count(&mut conn, owner, QueueTab::Open, &QueueFilter::default()).await?;
    let (handled, _) =
        store::queue_count(&mut conn, owner, QueueTab::Handled, &QueueFilter::default()).await?;
    let mut filter = QueueFilter {
        severity: request.severity,
        rule,
        household: None,
        gemeente,
    };
    let page = match household {
        Some(Err(refusal)) => {
            drop(conn);
            match refusal.audit(app, who).await {
                AppError::NotFound(_) => QueuePage {
                    groups: Vec::new(),
                    alerts: 0,
                    households: 0,
                    page: 1,
                    pages: 1,
                },
                e => return Err(e),
            }
        }
        Some(Ok(id)) => {
            filter.household = Some(id);
            shown(app, who, &mut conn, owner, request, &filter).await?
        }
        None => shown(app, who, &mut conn, owner, request, &filter).await?,
    };
    Ok(WorkQueue {
        page,
        filter,
        ignored,
        open,
        handled,
        gemeenten,
    })
}

/// The page of the queue the filter allows, audited as an alert list (of the household asked for).
async fn shown(
    app: &AppState,
    who: &Authenticated,
    conn: &mut store::Conn,
    owner: QueueOwner,
    request: &QueueRequest,
    filter: &QueueFilter,
) -> Result<QueuePage, AppError> {
    let page = store::work_queue(
        conn,
        owner,
        request.tab,
        filter,
        request.page,
        HOUSEHOLDS_PER_PAGE,
    )
    .await?;
    // The read, each household it showed, and the household asked for (shown or not).
    let households = page.groups.iter().map(|g| g.household.as_str());
    let asked = filter.household.as_ref().map(HouseholdId::as_str);
    app.audit_shown(who, AuditAction::AlertList, households.chain(asked))
        .await?;
    Ok(page)
}
