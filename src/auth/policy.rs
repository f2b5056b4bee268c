//! The one place that decides who may do what (DESIGN.md section 2). Handlers ask; they never
//! decide on their own.

use super::Actor;
use crate::domain::{NotifyRole, Relation, Role};

/// Everything an actor can ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Register a new household.
    CreateHousehold,
    /// List households (which ones follows from [`household_scope`]).
    ListHouseholds,
    /// Read one household in full: its details, assignments and timeline.
    ReadHousehold,
    /// Record an event on one household.
    WriteHousehold,
    /// Say who is regisseur and casemanager of a household.
    AssignHousehold,
    /// Report a concern by household reference, receiving only a receipt.
    ReportSignal,
    /// Create users, issue and revoke tokens.
    ManageUsers,
    /// Read the audit log.
    ReadAudit,
    /// Acknowledge or silence an alert on a household.
    DecideAlert,
    /// Configure webhook endpoints, see and redeliver deliveries.
    ManageWebhooks,
    /// See the aggregates of one's own gemeente.
    ViewGemeente,
    /// See the casusoverleg agenda: the households under one's regie to discuss this week.
    ViewAgenda,
    /// Read a household of one's region without an assignment, for a stated reason and a few
    /// hours (break-the-glass).
    BreakGlass,
    /// Review the break-the-glass reads.
    ReviewBreakGlass,
    /// Read the service's metrics on the main address (a metrics address of its own needs none).
    ReadMetrics,
    /// See who accessed one household, when and what (its rows of the audit log).
    ReadAccessLog,
}

/// Which households a listing shows to an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdScope {
    /// Every household, by its metadata only (id, region, gemeente, status).
    All,
    /// The households assigned to the actor.
    Assigned,
}

/// May `actor` do `action`? For household actions `relations` are the actor's ties to that
/// household (empty when there are none, or when the household does not exist: the answer must
/// not tell the two apart).
pub fn allows(actor: &Actor, action: Action, relations: &[Relation]) -> bool {
    use Action::*;
    match (actor.role, action) {
        (
            Role::Admin,
            CreateHousehold | ListHouseholds | AssignHousehold | ManageUsers | ReadAudit
            | ManageWebhooks | ReviewBreakGlass | ReadMetrics,
        ) => true,
        // A casemanager sees and writes only the households assigned to them; a regisseur only
        // those under their regie.
        (Role::Casemanager, CreateHousehold | ListHouseholds) => true,
        (Role::Casemanager, ReadHousehold | WriteHousehold) => {
            relations.contains(&Relation::Casemanager)
        }
        (Role::Regisseur, CreateHousehold | ListHouseholds) => true,
        (Role::Regisseur, ReadHousehold | WriteHousehold) => {
            relations.contains(&Relation::Regisseur)
        }
        // The regisseur holds regie: they decide what an alert asks, and they see who accessed
        // their household (admins read the whole audit log through ReadAudit instead).
        (Role::Regisseur, DecideAlert | ReadAccessLog) => relations.contains(&Relation::Regisseur),
        // The regisseur brings their households to the MDA++ casusoverleg. (DESIGN.md names a
        // teamcoördinator as the next level of escalation; there is no such role yet.)
        (Role::Regisseur, ViewAgenda) => true,
        // The regisseur sees who read their household through break-the-glass, and why.
        (Role::Regisseur, ReviewBreakGlass) => relations.contains(&Relation::Regisseur),
        (Role::SignalReporter, ReportSignal) => true,
        // Veilig Thuis or the crisis service: no household of its own; it reads one of its
        // region through break-the-glass only, and only for as long as that lasts. It never
        // writes: what it finds goes to the household's own people.
        (Role::VeiligThuis, BreakGlass) => actor.region.is_some(),
        (Role::VeiligThuis, ReadHousehold) => relations.contains(&Relation::Glass),
        (Role::GemeenteMonitor, ViewGemeente) => actor.gemeente.is_some(),
        // A gemeente monitor sees no household detail (aggregates only); a specialist sees only
        // households they are consulted on, which consultation requests will grant.
        _ => false,
    }
}

pub fn household_scope(actor: &Actor) -> Option<HouseholdScope> {
    if !allows(actor, Action::ListHouseholds, &[]) {
        return None;
    }
    Some(match actor.role {
        Role::Admin => HouseholdScope::All,
        _ => HouseholdScope::Assigned,
    })
}

/// The tie to a household through which an actor reads it (a casemanager as its casemanager, a
/// regisseur as its regisseur): which households are "mine" in their lists and work queue.
/// `None` for roles that read no household in full.
pub fn working_relation(actor: &Actor) -> Option<Relation> {
    match actor.role {
        Role::Casemanager => Some(Relation::Casemanager),
        Role::Regisseur => Some(Relation::Regisseur),
        _ => None,
    }
}

/// Through which tie to a household the people a rule notifies by `role` are told of it by name,
/// in their inbox. Only the household's own people are: a gemeente monitor sees aggregates only
/// and never a household (DESIGN.md section 2), and a specialist sees only the households they
/// are consulted on, a tie zicht does not record yet, so the region's specialist pool is named no
/// household. Veilig Thuis is reached through its webhook.
pub fn named_in_inbox(role: NotifyRole) -> Option<Relation> {
    match role {
        NotifyRole::Regisseur => Some(Relation::Regisseur),
        NotifyRole::Casemanager => Some(Relation::Casemanager),
        NotifyRole::SpecialistPool | NotifyRole::GemeenteMonitor | NotifyRole::VeiligThuis => None,
    }
}

/// Whether a webhook endpoint of `role` hears of single alerts. A gemeente monitor's does not:
/// when and where one alert fired can single out a household in a small wijk, so monitors get a
/// weekly digest of counts under disclosure control instead (`app::notify::digest`).
pub fn webhook_gets_alerts(role: &str) -> bool {
    role != "gemeente_monitor"
}

/// Whether a webhook endpoint of `role` may receive the household's id and its alert's id and
/// link. The endpoints of the roles that may not see a household (gemeente monitors, the
/// specialist pool) get the alert's rule, severity, state and region only.
pub fn webhook_names_household(role: &str) -> bool {
    !matches!(role, "gemeente_monitor" | "specialist_pool")
}

/// The relation a creator gets to the household they register, so they can go on working on it.
pub fn creator_relation(actor: &Actor) -> Option<Relation> {
    match actor.role {
        Role::Casemanager => Some(Relation::Casemanager),
        Role::Regisseur => Some(Relation::Regisseur),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: 1,
            username: "u".into(),
            role,
            gemeente: None,
            region: None,
        }
    }

    #[test]
    fn household_detail_needs_the_right_relation() {
        let cm = actor(Role::Casemanager);
        assert!(allows(&cm, Action::ReadHousehold, &[Relation::Casemanager]));
        assert!(!allows(&cm, Action::ReadHousehold, &[]));
        assert!(!allows(&cm, Action::ReadHousehold, &[Relation::Regisseur]));
        let rg = actor(Role::Regisseur);
        assert!(allows(&rg, Action::WriteHousehold, &[Relation::Regisseur]));
        assert!(!allows(
            &rg,
            Action::WriteHousehold,
            &[Relation::Casemanager]
        ));
    }

    #[test]
    fn the_working_relation_is_the_one_that_reads_a_household() {
        // Besides break-the-glass: a read for Veilig Thuis alone, never a household of its own.
        for role in Role::ALL {
            let a = actor(*role);
            for relation in Relation::ALL {
                let glass = *role == Role::VeiligThuis && *relation == Relation::Glass;
                assert_eq!(
                    allows(&a, Action::ReadHousehold, &[*relation]),
                    working_relation(&a) == Some(*relation) || glass,
                    "{role} as {relation}"
                );
                assert!(
                    !allows(&a, Action::WriteHousehold, &[Relation::Glass]),
                    "{role}"
                );
            }
        }
    }

    #[test]
    fn only_a_households_own_people_are_told_of_it_by_name() {
        for role in NotifyRole::ALL {
            let relation = named_in_inbox(*role);
            // Whoever is named a household can read it through that tie.
            if let Some(relation) = relation {
                let reader = Role::ALL
                    .iter()
                    .any(|r| allows(&actor(*r), Action::ReadHousehold, &[relation]));
                assert!(reader, "{role}");
            }
            assert_eq!(
                webhook_names_household(role.as_str()),
                !matches!(
                    role,
                    NotifyRole::GemeenteMonitor | NotifyRole::SpecialistPool
                ),
                "{role}"
            );
        }
        assert_eq!(named_in_inbox(NotifyRole::GemeenteMonitor), None);
        assert_eq!(named_in_inbox(NotifyRole::SpecialistPool), None);
    }

    #[test]
    fn monitors_reporters_and_admins_never_see_household_detail() {
        for role in [
            Role::GemeenteMonitor,
            Role::SignalReporter,
            Role::Admin,
            Role::Specialist,
        ] {
            let a = actor(role);
            for rel in [&[][..], &[Relation::Regisseur, Relation::Casemanager][..]] {
                assert!(!allows(&a, Action::ReadHousehold, rel), "{role}");
                assert!(!allows(&a, Action::WriteHousehold, rel), "{role}");
            }
        }
        assert!(allows(
            &actor(Role::SignalReporter),
            Action::ReportSignal,
            &[]
        ));
        assert!(!allows(
            &actor(Role::Casemanager),
            Action::ReportSignal,
            &[]
        ));
    }

    #[test]
    fn only_a_households_regisseur_sees_who_accessed_it() {
        for role in Role::ALL {
            for relation in Relation::ALL {
                assert_eq!(
                    allows(&actor(*role), Action::ReadAccessLog, &[*relation]),
                    *role == Role::Regisseur && *relation == Relation::Regisseur,
                    "{role} as {relation}"
                );
            }
            assert!(!allows(&actor(*role), Action::ReadAccessLog, &[]), "{role}");
        }
    }

    #[test]
    fn only_a_regisseur_has_a_casusoverleg_agenda() {
        for role in Role::ALL {
            assert_eq!(
                allows(&actor(*role), Action::ViewAgenda, &[]),
                *role == Role::Regisseur,
                "{role}"
            );
        }
    }
}
