//! The demo region: about forty fictional households in Brabant-Zuidoost with months of history,
//! built from archetypes seen in MDA++ practice (steady improvement, stagnation, relapse, repeated
//! meldingen, coercive control, letting go too early, ...), so that every alert rule fires somewhere (and every observation shows on a situatieplaat) and
//! several alerts are open today. Deterministic: the same day gives the same demo.

use crate::domain::{
    Closure, Consultation, Escalation, EscalationStep, Event, Flag, FlagKind, FlagLevel, FreeText,
    Household, Instant, Intervention, LocalDate, Milestone, Partner, PartnerWithdrawal,
    Perspective, PlaceName, Reference, Region, SafetyScore, Score, Signal, SignalKind,
    SignalSource, Specialism,
};
use crate::engine::History;

const PLACES: &[(&str, &[&str])] = &[
    (
        "Eindhoven",
        &[
            "Woensel-Noord",
            "Woensel-Zuid",
            "Stratum",
            "Gestel",
            "Tongelre",
            "Strijp",
        ],
    ),
    ("Helmond", &["Helmond-Noord", "Brouwhuis", "Mierlo-Hout"]),
    ("Veldhoven", &["Zeelst", "Meerveldhoven"]),
];

const UP: &[&str] = &[
    "Afspraken uit het veiligheidsplan worden nagekomen.",
    "Geen incidenten sinds het vorige gesprek; beide partners zijn in behandeling.",
    "Pleger houdt zich aan het contactverbod.",
    "Slachtoffer voelt zich veiliger sinds de nieuwe afspraken.",
];
const DOWN: &[&str] = &[
    "Nieuwe ruzie na een avond drinken; afspraken niet nagekomen.",
    "Slachtoffer durft minder te vertellen in bijzijn van de pleger.",
    "Spanning opgelopen door schulden en dreigende huisuitzetting.",
    "Behandeling verslaving gestopt.",
];

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What kind of trajectory a demo household has.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Story {
    Improving,
    NoDirectSafety,
    NotStable,
    Relapse,
    RepeatedMeldingen,
    FallingTrend,
    Divergence,
    Overdue,
    CoerciveControl,
    CannotStop,
    ClosedEarly,
    Aftercare,
    PartnerLeaves,
    Reopened,
}

const STORIES: [Story; 14] = [
    Story::Improving,
    Story::NoDirectSafety,
    Story::NotStable,
    Story::Relapse,
    Story::RepeatedMeldingen,
    Story::FallingTrend,
    Story::Divergence,
    Story::Overdue,
    Story::CoerciveControl,
    Story::CannotStop,
    Story::ClosedEarly,
    Story::Aftercare,
    Story::PartnerLeaves,
    Story::Reopened,
];

struct Builder<'a> {
    id: crate::domain::HouseholdId,
    events: Vec<Event>,
    rng: &'a mut Rng,
    today: Instant,
}

fn day(t: Instant, days: i64, hour: i64) -> Instant {
    let base = t.local_date().start();
    Instant::from_millis(base.millis() + days * 86_400_000 + hour * 3_600_000).expect("in range")
}

impl Builder<'_> {
    fn score(&mut self, at: Instant, perspective: Perspective, value: i64) {
        if at > self.today {
            return;
        }
        let value = value.clamp(0, 10);
        let reason = if self.rng.below(3) == 0 {
            let list = if value >= 6 { UP } else { DOWN };
            Some(
                list[self.rng.below(list.len() as u64) as usize]
                    .parse::<FreeText>()
                    .expect("demo text"),
            )
        } else {
            None
        };
        self.events.push(Event::Score(Score {
            household: self.id.clone(),
            at,
            perspective,
            value: SafetyScore::new(value).expect("clamped"),
            reason,
        }));
    }

    /// Scores from the victim, the casemanager and a professional every `every` days, following
    /// `level(day)`.
    fn scores(&mut self, from: Instant, days: i64, every: i64, level: impl Fn(i64) -> i64) {
        let mut d = 0;
        while d <= days {
            let at = day(from, d, 10);
            let base = level(d);
            let jitter = self.rng.below(2) as i64;
            self.score(at, Perspective::Slachtoffer, base - jitter);
            self.score(at, Perspective::Casemanager, base);
            if d % (every * 2) == 0 {
                self.score(at, Perspective::Professional, base + 1 - jitter);
            }
            d += every;
        }
    }

    fn signal(&mut self, at: Instant, kind: SignalKind, source: SignalSource, acute: bool) {
        if at <= self.today {
            self.events.push(Event::Signal(Signal {
                household: self.id.clone(),
                at,
                kind,
                source,
                acute,
            }));
        }
    }

    /// The regisseur records step `step` of the escalation ladder at `at`.
    fn escalation(&mut self, at: Instant, step: i64, reason: &str) {
        self.push(at, |household, at| {
            Event::Escalation(Escalation {
                household,
                at,
                step: EscalationStep::new(step).expect("a step"),
                reason: reason.parse().expect("demo text"),
            })
        });
    }

    /// The trajectory closes at `at`, with the reason given (a closure always says why).
    fn closure(&mut self, at: Instant, reason: &str) {
        self.push(at, |household, at| {
            Event::Closure(Closure {
                household,
                at,
                reason: Some(reason.parse().expect("demo text")),
            })
        });
    }

    fn push(
        &mut self,
        at: Instant,
        make: impl FnOnce(crate::domain::HouseholdId, Instant) -> Event,
    ) {
        if at <= self.today {
            let e = make(self.id.clone(), at);
            self.events.push(e);
        }
    }
}

/// The demo histories, ending on `today`.
pub(crate) fn demo_histories(today: Instant) -> Vec<History> {
    let mut rng = Rng(0x2a2a_2025);
    let mut out = Vec::new();
    for n in 0..42usize {
        let story = STORIES[n % STORIES.len()];
        let (gemeente, wijken) = PLACES[if n % 5 == 3 {
            1
        } else if n % 7 == 5 {
            2
        } else {
            0
        }];
        let wijk = wijken[rng.below(wijken.len() as u64) as usize];
        // Months of history: from 3 to 14, depending on the story.
        let months: i64 = match story {
            Story::NotStable => 9,
            Story::Aftercare => 13,
            Story::RepeatedMeldingen => 10,
            Story::Improving => 6 + (n as i64 % 5),
            _ => 3 + (n as i64 % 4),
        };
        let opened = day(today, -months * 30 - rng.below(10) as i64, 0);
        let id: crate::domain::HouseholdId = format!("D-{:04}", n + 1).parse().expect("demo id");
        let household = Household {
            id: id.clone(),
            reference: Some(
                format!("VT-2025-{:04}", n + 1)
                    .parse::<Reference>()
                    .expect("demo reference"),
            ),
            region: Region::BrabantZuidoost,
            gemeente: gemeente.parse::<PlaceName>().expect("demo gemeente"),
            wijk: Some(wijk.parse::<PlaceName>().expect("demo wijk")),
            minor_children: n % 3 == 0,
            opened_at: LocalDate::new(opened.local_date().date()),
        };
        let start = household.opened_at.start();
        let span = (today.millis() - start.millis()) / 86_400_000;
        let mut b = Builder {
            id,
            events: Vec::new(),
            rng: &mut rng,
            today,
        };
        // How they came in: a melding from the police.
        b.signal(
            day(start, 0, 9),
            SignalKind::Melding,
            SignalSource::Politie,
            true,
        );
        match story {
            Story::Improving => b.scores(start, span, 14, |d| (4 + d / 20).min(9)),
            Story::NoDirectSafety => b.scores(start, span, 10, |d| 3 + (d / 30) % 2),
            Story::NotStable => b.scores(start, span, 14, |_| 7),
            Story::Relapse => {
                b.scores(start, span - 25, 14, |d| (5 + d / 14).min(8));
                b.score(day(today, -20, 11), Perspective::Pleger, 4);
                b.signal(
                    day(today, -19, 23),
                    SignalKind::PolitieIncident,
                    SignalSource::Politie,
                    true,
                );
                b.scores(day(today, -14, 0), 14, 7, |_| 5);
            }
            Story::RepeatedMeldingen => {
                b.scores(start, span, 14, |_| 6);
                for k in 1..8 {
                    let sources = [
                        SignalSource::Politie,
                        SignalSource::Huisarts,
                        SignalSource::Onderwijs,
                        SignalSource::VeiligThuis,
                    ];
                    let src = sources[k % sources.len()];
                    b.signal(
                        day(start, (k as i64) * span / 9, 22),
                        SignalKind::Melding,
                        src,
                        false,
                    );
                }
            }
            Story::FallingTrend => {
                b.scores(start, span - 40, 14, |_| 8);
                for (k, v) in [9, 8, 8, 7, 6, 6].iter().enumerate() {
                    let at = day(today, -35 + 7 * k as i64, 10);
                    b.score(at, Perspective::Slachtoffer, *v);
                    b.score(at, Perspective::Casemanager, 7);
                }
            }
            Story::Divergence => {
                // The views agree at first; for the last two months the victim scores three to
                // four points below the professionals at every visit.
                b.scores(start, span - 75, 14, |_| 6);
                for (k, v) in [4, 3, 4, 3, 3].iter().enumerate() {
                    let at = day(today, -62 + 14 * k as i64, 10);
                    b.score(at, Perspective::Slachtoffer, *v);
                    b.score(at, Perspective::Casemanager, 7);
                    if k % 2 == 0 {
                        b.score(at, Perspective::Professional, 8);
                    }
                }
            }
            Story::Overdue => b.scores(start, span - 24, 7, |_| 4),
            Story::CoerciveControl => {
                b.scores(start, span, 10, |_| 6);
                b.push(day(today, -21, 9), |household, at| {
                    Event::Flag(Flag {
                        household,
                        at,
                        flag: FlagKind::IntiemTerrorisme,
                        level: FlagLevel::Waarschijnlijk,
                    })
                });
            }
            Story::CannotStop => {
                b.scores(start, span, 10, |_| 4);
                b.escalation(
                    day(today, -60, 9),
                    2,
                    "Geweld stopt niet in het vrijwillig kader; procesregie bij het ZVH.",
                );
                b.escalation(
                    day(today, -20, 9),
                    3,
                    "Geweld is niet te stoppen; vasthouden en volhouden.",
                );
            }
            Story::ClosedEarly => {
                b.scores(start, span - 60, 14, |_| 6);
                b.closure(day(today, -55, 9), "Cliënten willen geen hulp meer.");
                b.signal(
                    day(today, -12, 21),
                    SignalKind::Melding,
                    SignalSource::Wijkagent,
                    false,
                );
            }
            Story::Aftercare => {
                b.scores(start, span - 200, 14, |d| (5 + d / 14).min(9));
                b.closure(day(today, -195, 9), "Doelen bereikt, stabiel veilig.");
            }
            Story::PartnerLeaves => {
                b.scores(start, span, 14, |_| 6);
                b.push(day(today, -30, 9), |household, at| {
                    Event::Intervention(Intervention {
                        household,
                        at,
                        description: Some(
                            "Start ambulante GGZ-behandeling pleger."
                                .parse()
                                .expect("demo text"),
                        ),
                        effect_expected_by: Some(LocalDate::new(
                            day(at, 60, 0).local_date().date(),
                        )),
                    })
                });
                b.push(day(today, -10, 9), |household, at| {
                    Event::PartnerWithdrawal(PartnerWithdrawal {
                        household,
                        at,
                        partner: Partner::Ggz,
                    })
                });
            }
            Story::Reopened => {
                b.scores(start, span - 80, 14, |_| 7);
                b.closure(
                    day(today, -75, 9),
                    "Afspraken nagekomen, geen incidenten meer.",
                );
                b.signal(
                    day(today, -40, 22),
                    SignalKind::Melding,
                    SignalSource::Politie,
                    true,
                );
                b.push(day(today, -38, 9), |household, at| {
                    Event::Reopen(Milestone { household, at })
                });
                b.scores(day(today, -37, 0), 36, 10, |_| 4);
                b.push(day(today, -30, 9), |household, at| {
                    Event::Consultation(Consultation {
                        household,
                        at,
                        specialism: Specialism::Verslavingszorg,
                    })
                });
            }
        }
        // The ogen en oren in de wijk, now and then.
        if n % 4 == 1 {
            b.signal(
                day(today, -(5 + n as i64), 16),
                SignalKind::Zorgsignaal,
                SignalSource::Woningcorporatie,
                false,
            );
        }
        if n % 6 == 2 {
            b.signal(
                day(today, -(9 + n as i64), 20),
                SignalKind::Zorgsignaal,
                SignalSource::NietBeroepsmatig,
                false,
            );
        }
        let events = std::mem::take(&mut b.events);
        out.push(History::new(household, events));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn rules() -> crate::rules::RuleSet {
        crate::rules::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("alerts"))
            .unwrap()
    }

    #[test]
    fn every_rule_fires_somewhere_and_the_main_ones_are_open_today() {
        let today: Instant = "2026-11-20T12:00:00+01:00".parse().unwrap();
        let rules = rules();
        let histories = demo_histories(today);
        assert!(histories.len() >= 40);
        let mut fired = BTreeSet::new();
        let mut open = BTreeSet::new();
        for h in &histories {
            assert!(
                h.events
                    .iter()
                    .all(|e| e.at() <= today && e.household() == &h.household.id)
            );
            for f in crate::engine::simulate(h, rules.for_region(h.household.region), today) {
                if f.resolved_at.is_none() {
                    open.insert(f.rule.clone());
                }
                fired.insert(f.rule);
            }
        }
        let national = rules.for_region(histories[0].household.region).rules;
        let all: BTreeSet<String> = national
            .iter()
            .filter(|r| !r.observation)
            .map(|r| r.id.clone())
            .collect();
        assert_eq!(
            fired,
            all,
            "missing: {:?}",
            all.difference(&fired).collect::<Vec<_>>()
        );
        for rule in [
            "geen-directe-veiligheid",
            "geen-stabiele-veiligheid",
            "terugval",
            "herhaald-gemeld",
            "uiteenlopende-scores",
            "forensisch-consult",
            "geen-proactief-scenario",
            "meting-achterstallig",
            "voortijdig-loslaten",
        ] {
            assert!(
                open.contains(rule),
                "{rule} is not open today; open: {open:?}"
            );
        }
        // The observations (dalende-trend) are seen on a situatieplaat today.
        let observed: BTreeSet<String> = histories
            .iter()
            .flat_map(|h| {
                crate::engine::evaluate(h, rules.for_region(h.household.region), today).observations
            })
            .map(|c| c.rule)
            .collect();
        let observations: BTreeSet<String> = national
            .iter()
            .filter(|r| r.observation)
            .map(|r| r.id.clone())
            .collect();
        assert!(observations.contains("dalende-trend"));
        assert_eq!(observed, observations);
    }

    #[test]
    fn the_demo_is_the_same_every_time() {
        let today: Instant = "2026-03-01T12:00:00+01:00".parse().unwrap();
        let a: Vec<usize> = demo_histories(today)
            .iter()
            .map(|h| h.events.len())
            .collect();
        let b: Vec<usize> = demo_histories(today)
            .iter()
            .map(|h| h.events.len())
            .collect();
        assert_eq!(a, b);
    }
}
