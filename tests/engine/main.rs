//! The detection engine through its callers: the rule tests in `alerts/tests`, rule validation,
//! and `zicht replay`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn alerts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("alerts")
}

#[test]
fn every_rule_test_in_alerts_passes() {
    let rules = zicht::rules::load_dir(&alerts()).expect("the shipped rules are valid");
    let outcomes = zicht::rules::tests::run_dir(&alerts().join("tests"), &rules).unwrap();
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.failures.is_empty())
        .map(|o| {
            format!(
                "{} — {}:\n  {}",
                o.file.display(),
                o.name,
                o.failures.join("\n  ")
            )
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(outcomes.len() >= 60, "only {} rule tests", outcomes.len());
}

#[test]
fn every_shipped_rule_has_a_rule_test() {
    let rules = zicht::rules::load_dir(&alerts()).unwrap();
    let tests: String = std::fs::read_dir(alerts().join("tests"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let effective = rules.for_region(zicht::domain::Region::Utrecht);
    for rule in effective.rules {
        assert!(
            tests.contains(&format!("\"{}\"", rule.id)),
            "no rule test expects {}",
            rule.id
        );
    }
}

/// The errors of loading the rule directory `dir`, which must be invalid.
fn load_errors(dir: &Path) -> Vec<String> {
    zicht::rules::load_dir(dir)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join(name).parent().unwrap()).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn invalid_rules_are_refused_with_file_rule_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let national = std::fs::read_to_string(alerts().join("rules.toml")).unwrap();
    write(
        dir.path(),
        "rules.toml",
        &national.replace("params = { weeks = 26 }", "params = { weken = 26 }"),
    );
    write(
        dir.path(),
        "regions/haaglanden.toml",
        "[[rule]]\nid = \"terugval\"\nseverity = \"urgent\"\n",
    );
    write(dir.path(), "regions/atlantis.toml", "");
    let errors = load_errors(dir.path());
    let all = errors.join("\n");
    assert!(
        errors.iter().any(|e| e.contains("rules.toml")
            && e.contains("rule `geen-stabiele-veiligheid`")
            && e.contains("params.weken")),
        "{all}"
    );
    assert!(
        errors.iter().any(|e| e.contains("haaglanden.toml")
            && e.contains("rule `terugval`")
            && e.contains("severity")),
        "{all}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("atlantis.toml") && e.contains("region")),
        "{all}"
    );
}

#[test]
fn an_observation_notifies_nobody_and_is_never_a_one_shot() {
    let dir = tempfile::tempdir().unwrap();
    let national = std::fs::read_to_string(alerts().join("rules.toml")).unwrap();
    let bad = national
        .replace(
            "observation = true\nnotify = []",
            "observation = true\nnotify = [\"regisseur\"]",
        )
        .replace(
            "detector = \"hermelding\"\n",
            "detector = \"hermelding\"\nobservation = true\n",
        );
    assert_ne!(bad, national, "the shipped rules have an observation");
    write(dir.path(), "rules.toml", &bad);
    let errors = load_errors(dir.path());
    let all = errors.join("\n");
    assert!(
        errors.iter().any(|e| e.contains("rule `dalende-trend`")
            && e.contains("notify")
            && e.contains("an observation notifies nobody")),
        "{all}"
    );
    assert!(
        errors.iter().any(|e| e.contains("rule `hermelding`")
            && e.contains("a one-shot announces an event")),
        "{all}"
    );
}

#[test]
fn an_inhibition_must_name_a_state_alert_of_the_rule_set() {
    let dir = tempfile::tempdir().unwrap();
    let national = std::fs::read_to_string(alerts().join("rules.toml")).unwrap();
    let bad = national
        .replace(
            "inhibited_by = [\"herhaald-gemeld\", \"terugval\"]",
            "inhibited_by = [\"herhaald-gemeld\", \"terugvall\"]",
        )
        .replace(
            "inhibited_by = [\"terugval\"]",
            "inhibited_by = [\"hermelding\"]",
        );
    assert_ne!(bad, national, "the shipped rules use inhibited_by");
    write(dir.path(), "rules.toml", &bad);
    let errors = load_errors(dir.path());
    let all = errors.join("\n");
    assert!(
        errors.iter().any(|e| e.contains("rule `hermelding`")
            && e.contains("inhibited_by")
            && e.contains("`terugvall` is not a rule")),
        "{all}"
    );
    assert!(
        errors.iter().any(|e| e.contains("rule `dalende-trend`")
            && e.contains("`hermelding` is a one-shot")),
        "{all}"
    );
}

#[test]
fn a_regional_override_changes_only_that_region() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "rules.toml",
        &std::fs::read_to_string(alerts().join("rules.toml")).unwrap(),
    );
    write(
        dir.path(),
        "regions/brabant-zuidoost.toml",
        "[[rule]]\nid = \"geen-directe-veiligheid\"\nparams = { weeks = 4 }\n",
    );
    let rules = zicht::rules::load_dir(dir.path()).unwrap();
    let weeks = |region| {
        let e = rules.for_region(region);
        e.rules.iter().find_map(|r| match &r.detector {
            zicht::engine::Detector::GeenDirecteVeiligheid(p) => Some(p.weeks),
            _ => None,
        })
    };
    assert_eq!(weeks(zicht::domain::Region::BrabantZuidoost), Some(4));
    assert_eq!(weeks(zicht::domain::Region::Utrecht), Some(6));
}

#[test]
fn every_rule_has_a_title_and_a_region_may_change_it() {
    let dir = tempfile::tempdir().unwrap();
    let national = std::fs::read_to_string(alerts().join("rules.toml")).unwrap();
    write(dir.path(), "rules.toml", &national);
    write(
        dir.path(),
        "regions/haaglanden.toml",
        "[[rule]]\nid = \"ogen-en-oren\"\ntitle = \"Zorg uit de buurt\"\n",
    );
    let rules = zicht::rules::load_dir(dir.path()).unwrap();
    let title = |region| {
        let e = rules.for_region(region);
        e.rules
            .iter()
            .find(|r| r.id == "ogen-en-oren")
            .map(|r| r.title.clone())
    };
    assert_eq!(
        title(zicht::domain::Region::Haaglanden).as_deref(),
        Some("Zorg uit de buurt")
    );
    assert_eq!(
        title(zicht::domain::Region::Utrecht).as_deref(),
        Some("Signaal uit de wijk")
    );

    write(
        dir.path(),
        "rules.toml",
        &national.replacen("title = \"Terugval\"\n", "", 1),
    );
    let errors = load_errors(dir.path());
    assert!(
        errors
            .iter()
            .any(|e| e.contains("rule `terugval`") && e.contains("title")),
        "{errors:?}"
    );
}

#[test]
fn meting_achterstallig_is_a_work_list_reminder_for_the_casemanager() {
    let rules = zicht::rules::load_dir(&alerts()).unwrap();
    let effective = rules.for_region(zicht::domain::Region::Utrecht);
    let overdue = effective
        .rules
        .iter()
        .find(|r| r.id == "meting-achterstallig")
        .unwrap();
    assert_eq!(overdue.severity, zicht::engine::Severity::Info);
    assert_eq!(overdue.notify, vec![zicht::engine::NotifyRole::Casemanager]);
}

#[test]
fn replay_prints_one_line_per_firing() {
    let dir = tempfile::tempdir().unwrap();
    let events = [
        r#"{"type":"household","id":"H-0001","region":"brabant-zuidoost","gemeente":"Eindhoven","wijk":"Woensel-Noord","minor_children":false,"opened_at":"2025-01-06"}"#,
        r#"{"type":"score","household":"H-0001","at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":3,"reason":"..."}"#,
        r#"{"type":"score","household":"H-0001","at":"2025-01-13T10:00:00+01:00","perspective":"slachtoffer","value":3}"#,
        r#"{"type":"signal","household":"H-0001","at":"2025-02-01T22:10:00+01:00","kind":"melding","source":"politie","acute":true}"#,
        r#"{"type":"score","household":"H-0001","at":"2025-02-10T10:00:00+01:00","perspective":"slachtoffer","value":3}"#,
        r#"{"type":"score","household":"H-0001","at":"2025-02-20T10:00:00+01:00","perspective":"slachtoffer","value":7}"#,
    ];
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, events.join("\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args([
            "replay",
            file.to_str().unwrap(),
            "--until",
            "2025-02-28",
            "--rules",
            alerts().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String, serde_json::Value)> = lines
        .iter()
        .map(|l| {
            (
                l["rule"].as_str().unwrap().to_owned(),
                l["fired_at"].as_str().unwrap().to_owned(),
                l["resolved_at"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "hermelding".into(),
                "2025-02-01T22:10:00+01:00".into(),
                serde_json::Value::Null
            ),
            // Last score on 13 January, no direct safety: overdue after 21 days, until the next score.
            (
                "meting-achterstallig".into(),
                "2025-02-03T10:00:00+01:00".into(),
                "2025-02-10T10:00:00+01:00".into()
            ),
            // A current picture at week 6 (the score of 10 February): answered on the day.
            (
                "geen-directe-veiligheid".into(),
                "2025-02-17T00:00:00+01:00".into(),
                "2025-02-20T10:00:00+01:00".into()
            ),
        ]
    );
    assert!(
        lines
            .iter()
            .all(|l| l["household"] == "H-0001" && l["severity"].is_string())
    );
}

/// A history in the interchange format.
fn history(lines: &[&str]) -> zicht::engine::History {
    let text = lines.join("\n");
    let mut histories = zicht::rules::tests::histories(&text).expect("valid events");
    histories.remove(0)
}

#[test]
fn an_escalation_step_is_never_a_phase_and_holding_on_needs_a_scenario_since_step_3() {
    use zicht::engine::{Phase, escalation_step, evaluate, phase};
    let rules = zicht::rules::load_dir(&alerts()).unwrap();
    let effective = rules.for_region(zicht::domain::Region::Utrecht);
    let household = r#"{"type":"household","id":"H-1","region":"utrecht","gemeente":"Utrecht","minor_children":false,"opened_at":"2025-01-06"}"#;
    let unsafe_score = r#"{"type":"score","household":"H-1","at":"2025-01-07T10:00:00+01:00","perspective":"slachtoffer","value":3}"#;
    let step3 = r#"{"type":"escalation","household":"H-1","at":"2025-01-20T09:00:00+01:00","step":3,"reason":"geweld niet te stoppen"}"#;
    let early =
        r#"{"type":"proactive_scenario","household":"H-1","at":"2025-01-10T09:00:00+01:00"}"#;
    let agreed =
        r#"{"type":"proactive_scenario","household":"H-1","at":"2025-01-25T09:00:00+01:00"}"#;
    let now: zicht::domain::Instant = "2025-02-01T09:00:00+01:00".parse().unwrap();

    let h = history(&[household, unsafe_score, step3]);
    assert_eq!(escalation_step(&h, now).get(), 3);
    assert_eq!(
        phase(&h, effective.definitions, now),
        Phase::AcuteOnveiligheid,
        "the most dangerous households must not look the safest"
    );
    let before: zicht::domain::Instant = "2025-01-19T09:00:00+01:00".parse().unwrap();
    assert_eq!(
        escalation_step(&h, before).get(),
        1,
        "step 1 until one is recorded"
    );

    assert!(!evaluate(&h, effective, now).holding_on);
    let h = history(&[household, unsafe_score, early, step3]);
    assert!(
        !evaluate(&h, effective, now).holding_on,
        "agreed before step 3"
    );
    let h = history(&[household, unsafe_score, step3, agreed]);
    assert!(evaluate(&h, effective, now).holding_on);
}
