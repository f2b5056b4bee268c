//! Engine benchmarks: one household with 200 events (evaluated once, and replayed at each of its
//! events and due times), a sweep over 100,000 synthetic households with 50 events each (the
//! re-evaluation after a restart or a rule change; target under 5 s on one core), and the replay of
//! 2,000 households with 100 events each on every core (`zicht replay` of a region; see
//! `docs/performance.md`).
//!
//! `cargo bench --bench engine`; the sweep prints its wall time per run.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use zicht::domain::{
    Event, FlagKind, FlagLevel, Household, Instant, LocalDate, Perspective, PlaceName, Region,
    SafetyScore, Score, Signal, SignalKind, SignalSource,
};
use zicht::engine::{History, evaluate, simulate, simulate_all};

/// A deterministic, realistic history: scores from three perspectives every few days that climb,
/// fall back and climb again, meldingen now and then, a flag and a phase-3 milestone.
fn history(id: usize, events: usize) -> History {
    let opened: LocalDate = "2025-01-06".parse().unwrap();
    let household = Household {
        id: format!("H-{id:06}").parse().unwrap(),
        reference: None,
        region: Region::ALL[id % Region::ALL.len()],
        gemeente: "Eindhoven".parse::<PlaceName>().unwrap(),
        wijk: None,
        minor_children: id.is_multiple_of(3),
        opened_at: opened,
    };
    let start = opened.start().millis();
    let mut seed = id as u64 * 6364136223846793005 + 1442695040888963407;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as i64
    };
    let perspectives = [
        Perspective::Slachtoffer,
        Perspective::Casemanager,
        Perspective::Professional,
    ];
    let mut list = Vec::with_capacity(events);
    let hid = household.id.clone();
    for i in 0..events {
        let at = Instant::from_millis(start + (i as i64) * 3 * 86_400_000 + next() % 36_000_000)
            .unwrap();
        let phase = (i * 10 / events.max(1)) as i64;
        let event = match i % 17 {
            5 => Event::Signal(Signal {
                household: hid.clone(),
                at,
                kind: SignalKind::Melding,
                source: SignalSource::ALL[(next() % 10) as usize],
                acute: next() % 4 == 0,
            }),
            11 if i == 11 => Event::Flag(zicht::domain::Flag {
                household: hid.clone(),
                at,
                flag: FlagKind::IntiemTerrorisme,
                level: FlagLevel::Waarschijnlijk,
            }),
            13 if i == 13 * 3 => Event::Escalation(zicht::domain::Escalation {
                household: hid.clone(),
                at,
                step: zicht::domain::EscalationStep::CANNOT_STOP,
                reason: "geweld niet te stoppen".parse().expect("text"),
            }),
            _ => {
                let base = [3, 5, 7, 8, 6, 4, 6, 8, 9, 9][phase as usize % 10];
                let value = (base + next() % 3 - 1).clamp(0, 10);
                Event::Score(Score {
                    household: hid.clone(),
                    at,
                    perspective: perspectives[i % 3],
                    value: SafetyScore::new(value).unwrap(),
                    reason: None,
                })
            }
        };
        list.push(event);
    }
    History::new(household, list)
}

fn benches(c: &mut Criterion) {
    let rules = zicht::rules::load_dir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/alerts"
    )))
    .unwrap();
    let one = history(7, 200);
    let now = one.events.last().unwrap().at();
    c.bench_function("evaluate one household, 200 events", |b| {
        b.iter(|| {
            evaluate(
                black_box(&one),
                rules.for_region(one.household.region),
                black_box(now),
            )
        })
    });

    c.bench_function("replay one household, 200 events", |b| {
        b.iter(|| simulate(black_box(&one), rules.for_region(one.household.region), now))
    });

    let households: Vec<History> = (0..100_000).map(|i| history(i, 50)).collect();
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.bench_function("evaluate 100,000 households, 50 events each", |b| {
        b.iter(|| {
            let started = std::time::Instant::now();
            let mut firing = 0usize;
            for h in &households {
                let now = h.events.last().unwrap().at();
                firing += evaluate(h, rules.for_region(h.household.region), now)
                    .conditions
                    .len();
            }
            eprintln!(
                "sweep: {:.2} s, {firing} conditions",
                started.elapsed().as_secs_f64()
            );
            firing
        })
    });
    let region: Vec<History> = (0..2_000).map(|i| history(i, 100)).collect();
    let until = region
        .iter()
        .filter_map(|h| h.events.last().map(|e| e.at()))
        .max()
        .unwrap();
    group.bench_function("replay 2,000 households, 100 events each", |b| {
        b.iter(|| {
            simulate_all(
                black_box(&region),
                |h| rules.for_region(h.household.region),
                until,
            )
        })
    });
    group.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
