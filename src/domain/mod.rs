//! Domain types. A value of one of these types is valid by construction; wire data becomes one at
//! the edge (HTTP, import, replay) and nowhere else.

mod event;
pub mod gemeente;
mod trajectory;
mod values;
mod vocab;

pub(crate) use vocab::{label_or_wire, vocabulary};

pub use event::{
    Closure, Consultation, EVENT_TYPES, Escalation, Event, Flag, Household, Intervention,
    Milestone, PartnerWithdrawal, Score, Signal,
};
pub use trajectory::{CLOCK_SKEW, Dating, Trajectory, check_dating, latest_allowed};
pub use values::{
    EscalationStep, FreeText, HouseholdId, Instant, LocalDate, PlaceName, Reference, SafetyScore,
    amsterdam,
};
pub use vocab::{
    Decision, FlagKind, FlagLevel, NotifyRole, Partner, Perspective, Region, Relation, Role,
    Severity, SignalKind, SignalSource, Specialism, TrajectoryStatus, Vocabulary,
};

/// Why a wire value is not a valid domain value; the message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

impl ParseError {
    pub fn new(message: impl Into<String>) -> Self {
        ParseError(message.into())
    }
}
