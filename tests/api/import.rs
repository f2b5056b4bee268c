//! `zicht import`: JSON Lines and CSV in, households stored whole, each event once, past alerts
//! recorded as history; every rejected line reported.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, both};

fn import_as(app: &TestApp, name: &str, text: &str, args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zicht"))
        .arg("import")
        .arg(&file)
        .args(args)
        .env("DATABASE_URL", app.settings.database_url())
        .env("ZICHT_ALERTS_DIR", &app.settings.alerts_dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn import(app: &TestApp, text: &str) -> (bool, String, String) {
    import_as(app, "events.jsonl", text, &[])
}

const HISTORY: &str = r#"{"type":"household","id":"H-0001","region":"brabant-zuidoost","gemeente":"Eindhoven","wijk":"Woensel-Noord","minor_children":false,"opened_at":"2025-01-06"}
{"type":"score","household":"H-0001","at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":3,"reason":"..."}
{"type":"signal","household":"H-0001","at":"2025-02-01T22:10:00+01:00","kind":"melding","source":"politie","acute":true}
{"type":"household","id":"H-0002","region":"utrecht","gemeente":"Utrecht","minor_children":true,"opened_at":"2025-03-03"}
{"type":"score","household":"H-0002","at":"2025-03-03T10:00:00+01:00","perspective":"casemanager","value":7}
"#;

both! {
    async fn importing_a_file_twice_stores_nothing_new(app: TestApp) {
        let (ok, stdout, stderr) = import(&app, HISTORY);
        assert!(ok, "{stderr}");
        assert!(stdout.contains("imported 3 events: 2 households new"), "{stdout}");
        assert_eq!(app.count("households").await, 2);
        assert_eq!(app.count("events").await, 3);
        // Evaluated at once: long past six weeks without direct safety.
        assert_eq!(app.scalar("SELECT COUNT(*) FROM alerts WHERE rule = 'geen-directe-veiligheid' AND household_id = 'H-0001'").await, 1);
        let audited = app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'household.create' AND actor = 'cli'").await;
        assert_eq!(audited, 2);

        let (alerts, audits) = (app.count("alerts").await, app.count("audit_log").await);
        let (ok, stdout, _) = import(&app, HISTORY);
        assert!(ok);
        assert!(stdout.contains("imported 0 events: 0 households new, 0 extended, 2 unchanged"), "{stdout}");
        assert!(stdout.contains("3 events already stored"), "{stdout}");
        assert_eq!(app.count("events").await, 3);
        assert_eq!((app.count("alerts").await, app.count("audit_log").await), (alerts, audits));

        // A household that exists gets its new events only; its household line may be left out,
        // and the same melding in another spelling of its moment is the same melding.
        let more = r#"{"type":"signal","household":"H-0001","at":"2025-02-01T21:10:00Z","kind":"melding","source":"politie","acute":true}
{"id":"CM-77","type":"score","household":"H-0001","at":"2025-03-01T10:00:00+01:00","perspective":"slachtoffer","value":4}
{"id":"CM-77","type":"score","household":"H-0001","at":"2025-03-01T10:00:00+01:00","perspective":"slachtoffer","value":4}
"#;
        let (ok, stdout, stderr) = import(&app, more);
        assert!(ok, "{stderr}");
        assert!(stdout.contains("imported 1 events: 0 households new, 1 extended"), "{stdout}");
        assert_eq!(app.count("events").await, 4);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'event.create' AND household_id = 'H-0001'").await, 1);
        // An import never changes a household.
        let moved = HISTORY.replace("\"gemeente\":\"Utrecht\"", "\"gemeente\":\"Zeist\"");
        let (ok, _, stderr) = import(&app, &moved);
        assert!(!ok);
        assert!(stderr.contains("line 4 (household H-0002): gemeente: differs from the stored household"), "{stderr}");
        assert_eq!(app.count("events").await, 4);
    }
}

both! {
    async fn a_rejected_line_is_reported_and_keeps_its_household_out(app: TestApp) {
        // Line 5 is out of range, line 6 is a closure before the trajectory opened: H-0002 is
        // skipped whole and both are reported; H-0001 is imported.
        let bad = HISTORY.replace("\"value\":7", "\"value\":17").to_owned()
            + r#"{"type":"closure","household":"H-0002","at":"2019-03-03T10:00:00+01:00"}"#
            + "\n";
        let (ok, stdout, stderr) = import(&app, &bad);
        assert!(!ok);
        assert!(stderr.contains("line 5 (household H-0002): value: must be") && stderr.contains("0 to 10"), "{stderr}");
        assert!(stderr.contains("line 6 (household H-0002): at: must not be before the trajectory opened"), "{stderr}");
        assert!(stdout.contains("1 households new") && stdout.contains("1 skipped") && stdout.contains("2 lines rejected"), "{stdout}");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM households WHERE id = 'H-0002'").await, 0);
        assert_eq!(app.count("events").await, 2);

        // A line that names no household could belong to any: nothing is stored.
        let (ok, _, stderr) = import(&app, &(HISTORY.replace("H-0001", "H-0003").replace("H-0002", "H-0004") + "{oops\n"));
        assert!(!ok);
        assert!(stderr.contains("line 6: ") && stderr.contains("nothing was stored"), "{stderr}");
        assert_eq!(app.count("households").await, 1);

        // A dry run checks and reports everything and stores nothing.
        let (ok, stdout, stderr) = import_as(&app, "events.jsonl", HISTORY, &["--dry-run"]);
        assert!(ok, "{stderr}");
        assert!(stdout.contains("dry run, nothing stored: would import 1 events: 1 households new, 0 extended, 1 unchanged"), "{stdout}");
        assert_eq!(app.count("households").await, 1);
        assert_eq!(app.count("events").await, 2);
    }
}

const CSV: &str = "type,id,household,at,region,gemeente,wijk,minor_children,opened_at,perspective,value,reason,kind,source,acute
household,H-0001,,,brabant-zuidoost,Eindhoven,Woensel-Noord,false,2025-01-06,,,,,,
score,,H-0001,2025-01-06T10:00:00+01:00,,,,,,slachtoffer,3,...,,,
signal,,H-0001,2025-02-01T22:10:00+01:00,,,,,,,,,melding,politie,true
household,H-0002,,,utrecht,Utrecht,,true,2025-03-03,,,,,,
score,,H-0002,2025-03-03T10:00:00+01:00,,,,,,casemanager,7,,,,
";

both! {
    async fn csv_imports_the_same_events_as_json_lines(app: TestApp) {
        let (ok, stdout, stderr) = import_as(&app, "history.csv", CSV, &[]);
        assert!(ok, "{stderr}");
        assert!(stdout.contains("imported 3 events: 2 households new"), "{stdout}");
        // The same history as JSON Lines is recognised event by event.
        let (ok, stdout, _) = import(&app, HISTORY);
        assert!(ok && stdout.contains("imported 0 events"), "{stdout}");
        assert_eq!(app.count("events").await, 3);
        let timeline = app.get(&app.admin_token, "/api/v1/households?limit=10").await.expect(StatusCode::OK);
        assert_eq!(timeline.body["items"].as_array().unwrap().len(), 2);

        let (ok, _, stderr) = import_as(&app, "bad.csv", &CSV.replace(",3,...", ",drie,..."), &[]);
        assert!(!ok);
        assert!(stderr.contains("line 3 (household H-0001): value:"), "{stderr}");
        let (ok, _, stderr) = import_as(&app, "bad.csv", &CSV.replace("acute", "naam"), &[]);
        assert!(!ok && stderr.contains("unknown column `naam`"), "{stderr}");
    }
}

both! {
    async fn past_alerts_are_recorded_as_history_and_what_fires_now_is_told_once(app: TestApp) {
        app.post(
            &app.admin_token,
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "role": "regisseur", "region": "brabant-zuidoost"}),
        )
        .await
        .expect(StatusCode::CREATED);
        // H-0003 reached direct safety two months late: geen-directe-veiligheid fired in February
        // and resolved in March. Both households had a melding while open (hermelding) long ago.
        let history = HISTORY.to_owned() + r#"{"type":"household","id":"H-0003","region":"brabant-zuidoost","gemeente":"Eindhoven","minor_children":false,"opened_at":"2025-01-06"}
{"type":"score","household":"H-0003","at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":3}
{"type":"signal","household":"H-0003","at":"2025-01-20T22:10:00+01:00","kind":"melding","source":"politie","acute":false}
{"type":"score","household":"H-0003","at":"2025-03-10T10:00:00+01:00","perspective":"slachtoffer","value":7}
{"type":"score","household":"H-0003","at":"2025-03-10T10:05:00+01:00","perspective":"casemanager","value":7}
"#;
        let (ok, stdout, stderr) = import(&app, &history);
        assert!(ok, "{stderr}");
        assert!(stdout.contains("past alerts recorded as history"), "{stdout}");
        let hermeldingen = app.scalar("SELECT COUNT(*) FROM alerts WHERE rule = 'hermelding'").await;
        assert_eq!(hermeldingen, 2, "recorded");
        let resolved = app
            .scalar("SELECT COUNT(*) FROM alerts WHERE household_id = 'H-0003' AND rule = 'geen-directe-veiligheid' AND state = 'resolved'")
            .await;
        assert_eq!(resolved, 1);
        // It fired and resolved at its own moments, in 2025, not at the import.
        let transitions = app
            .scalar("SELECT COUNT(*) FROM alert_transitions t JOIN alerts a ON a.id = t.alert_id WHERE a.household_id = 'H-0003' AND a.rule = 'geen-directe-veiligheid' AND t.at_ms < 1767225600000")
            .await;
        assert_eq!(transitions, 2);
        let sent = |rule: &str| format!("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%\"rule\":\"{rule}\"%'");
        assert_eq!(app.scalar(&sent("hermelding")).await, 0, "history is not news");
        assert_eq!(app.scalar(&sent("geen-directe-veiligheid")).await, 1, "H-0001 still fires: told once");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%\"household\":\"H-0003\"%' AND payload LIKE '%geen-directe%'").await, 0);

        // A melding of today is news: told, once, also when the file is imported again.
        let today = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let fresh = format!(r#"{{"type":"signal","household":"H-0003","at":"{today}","kind":"melding","source":"huisarts","acute":false}}"#);
        let (ok, _, stderr) = import(&app, &fresh);
        assert!(ok, "{stderr}");
        let (ok, _, _) = import(&app, &fresh);
        assert!(ok);
        assert_eq!(app.scalar(&sent("hermelding")).await, 1);
    }
}

/// Sends a body to the system feed as `token`; the status and the JSON answer.
async fn feed(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/events"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

const NDJSON: &str = "application/x-ndjson";

fn feed_lines() -> String {
    [
        r#"{"type":"score","household":"H-0001","at":"2025-01-06T09:00:00+01:00","perspective":"slachtoffer","value":4}"#,
        r#"{"id":"VT-1","type":"signal","household":"H-0001","at":"2025-01-05T22:00:00+01:00","kind":"melding","source":"politie","acute":false}"#,
        r#"{"type":"score","household":"H-0002","at":"2025-01-06T09:00:00+01:00","perspective":"slachtoffer","value":4}"#,
        r#"{"type":"score","household":"H-0009","at":"2025-01-06T09:00:00+01:00","perspective":"slachtoffer","value":4}"#,
    ]
    .join("\n")
}

both! {
    async fn the_feed_registers_households_as_post_households_does(app: TestApp) {
        let petra = app.user("petra", "casemanager").await;
        let kees = app.user("kees", "casemanager").await;
        app.household("H-0002", None, &["kees"]).await;
        let mut with_reference = crate::helpers::household_json("H-0003");
        with_reference["reference"] = serde_json::json!("VT-2025-0003");
        app.post(&app.admin_token, "/api/v1/households", with_reference).await.expect(StatusCode::CREATED);
        let lines = [
            r#"{"type":"household","id":"H-0001","region":"brabant-zuidoost","gemeente":"Eindhoven","wijk":"Woensel-Noord","minor_children":false,"opened_at":"2025-01-06"}"#,
            r#"{"type":"score","household":"H-0001","at":"2025-01-06T09:00:00+01:00","perspective":"slachtoffer","value":4}"#,
            // Kees's household, and another one's reference: known, and no more than that.
            r#"{"type":"household","id":"H-0002","region":"brabant-zuidoost","gemeente":"Eindhoven","wijk":"Woensel-Noord","minor_children":false,"opened_at":"2025-01-06"}"#,
            r#"{"type":"score","household":"H-0002","at":"2025-01-06T09:00:00+01:00","perspective":"slachtoffer","value":4}"#,
            r#"{"type":"household","id":"H-0004","reference":"VT-2025-0003","region":"brabant-zuidoost","gemeente":"Eindhoven","minor_children":false,"opened_at":"2025-01-06"}"#,
            // A household line that breaks a rule of the domain says which field.
            r#"{"type":"household","id":"H-0005","region":"brabant-zuidoost","gemeente":"Eindhovn","minor_children":false,"opened_at":"2025-01-06"}"#,
        ]
        .join("\n");
        let (status, body) = feed(&app, &petra, NDJSON, lines).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let got = body["lines"].as_array().unwrap();
        assert_eq!((got[0]["status"].as_str(), got[1]["status"].as_str()), (Some("stored"), Some("stored")), "{body}");
        // Registered by Petra: hers to read and write, as if she had used POST /households.
        assert_eq!(app.timeline(&petra, "H-0001").await.len(), 1);
        for n in [2, 3, 4] {
            assert_eq!(got[n]["status"], "rejected", "{body}");
            assert_eq!(got[n]["problem"]["status"], 409, "{body}");
            assert!(got[n]["problem"]["detail"].as_str().unwrap().contains("already known to zicht"), "{body}");
        }
        assert!(!body.to_string().contains("kees"));
        assert_eq!(got[5]["problem"]["errors"][0]["field"], "gemeente", "{body}");
        assert!(app.timeline(&kees, "H-0002").await.is_empty(), "nothing stored on Kees's household");
        assert_eq!(app.count("households").await, 3, "H-0001 only is new");
        let audited = app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'household.create' AND outcome = 'denied'").await;
        assert_eq!(audited, 2, "each attempt on a known household is audited");

        // Sent again: the household is Petra's now, and nothing is stored twice.
        let again = r#"{"type":"household","id":"H-0001","region":"brabant-zuidoost","gemeente":"Eindhoven","wijk":"Woensel-Noord","minor_children":false,"opened_at":"2025-01-06"}
{"type":"score","household":"H-0001","at":"2025-01-06T09:00:00+01:00","perspective":"slachtoffer","value":4}"#;
        let (_, body) = feed(&app, &petra, NDJSON, again.to_owned()).await;
        assert_eq!(body["duplicates"].as_u64(), Some(1), "{body}");
        assert_eq!(app.timeline(&petra, "H-0001").await.len(), 1);
    }
}

both! {
    async fn the_feed_stores_each_line_once_and_answers_per_line(app: TestApp) {
        let petra = app.user("petra", "casemanager").await;
        let kees = app.user("kees", "casemanager").await;
        app.household("H-0001", None, &["petra"]).await;
        app.household("H-0002", None, &["kees"]).await;
        let before = app.count("events").await;

        let (status, body) = feed(&app, &petra, NDJSON, feed_lines()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["stored"].as_u64(), body["rejected"].as_u64()), (Some(2), Some(2)), "{body}");
        let lines = body["lines"].as_array().unwrap();
        assert_eq!(lines[0]["status"], "stored");
        assert_eq!(lines[1]["status"], "stored");
        // Someone else's household answers exactly as one that does not exist.
        assert_eq!(lines[2]["problem"]["status"], 404);
        assert_eq!(lines[2]["problem"], lines[3]["problem"]);
        assert_eq!(app.count("events").await, before + 2);
        let refused = app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'event.create' AND outcome = 'denied' AND household_id = 'H-0002'").await;
        assert_eq!(refused, 1);
        assert!(app.timeline(&kees, "H-0002").await.is_empty());

        // Sent again: nothing new.
        let (_, body) = feed(&app, &petra, NDJSON, feed_lines()).await;
        assert_eq!(body["duplicates"].as_u64(), Some(2), "{body}");
        assert_eq!(app.count("events").await, before + 2);

        // A rejected line keeps its household's other lines out, and says which field is wrong.
        let bad = [
            r#"{"type":"score","household":"H-0001","at":"2025-01-06T09:30:00+01:00","perspective":"casemanager","value":5}"#,
            r#"{"type":"score","household":"H-0001","at":"2025-01-06T09:30:00+01:00","perspective":"slachtoffer","value":17}"#,
            r#"{"type":"closure","household":"H-0001","at":"2025-01-06T09:40:00+01:00"}"#,
        ]
        .join("\n");
        let (_, body) = feed(&app, &petra, NDJSON, bad).await;
        let lines = body["lines"].as_array().unwrap();
        assert_eq!(lines[0]["status"], "skipped");
        assert_eq!(lines[1]["status"], "rejected");
        assert_eq!(lines[1]["problem"]["errors"][0]["field"], "value");
        // What the single-event routes ask, the feed asks: a closure says why.
        assert_eq!(lines[2]["problem"]["errors"][0]["field"], "reason", "{body}");
        assert_eq!(app.count("events").await, before + 2);
    }
}

both! {
    async fn the_feed_is_bounded_and_speaks_ndjson(app: TestApp) {
        let petra = app.user("petra", "casemanager").await;
        let line = r#"{"type":"score","household":"H-0001","at":"2025-01-06T09:00:00+01:00","perspective":"slachtoffer","value":4}"#;
        let (status, body) = feed(&app, &petra, NDJSON, vec![line; 1001].join("\n")).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body["detail"].as_str().unwrap().contains("1000 lines"), "{body}");
        let (status, _) = feed(&app, &petra, NDJSON, "x".repeat((1 << 20) + 1)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let (status, _) = feed(&app, &petra, "application/json", line.to_owned()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        // A household line registers the household, as POST /households does.
        let household = serde_json::to_string(&{
            let mut h = crate::helpers::household_json("H-0005");
            h["type"] = json!("household");
            h
        })
        .unwrap();
        let (_, body) = feed(&app, &petra, NDJSON, household).await;
        assert_eq!(body["lines"][0]["status"], "stored", "{body}");
        assert_eq!(app.count("households").await, 1);
        app.get(&petra, "/api/v1/households/H-0005").await.expect(StatusCode::OK);
    }
}

#[test]
fn replay_reads_the_same_lines_as_import_ids_included() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.jsonl");
    let with_ids = HISTORY.replace(r#"{"type":"signal""#, r#"{"id":"VT-1","type":"signal""#);
    std::fs::write(&file, with_ids).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args(["replay", file.to_str().unwrap(), "--until", "2025-06-01"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(r#""rule":"hermelding""#), "{stdout}");
}

fn export(app: &TestApp, args: &[&str], key: Option<&str>) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zicht"));
    command
        .arg("export")
        .args(args)
        .env("DATABASE_URL", app.settings.database_url())
        .env_remove("ZICHT_EXPORT_KEY");
    if let Some(key) = key {
        command.env("ZICHT_EXPORT_KEY", key);
    }
    let out = command.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

both! {
    async fn an_export_shows_what_its_user_may_see_pseudonymised_when_asked(app: TestApp) {
        assert!(import(&app, HISTORY).0);
        app.user("petra", "casemanager").await;
        app.user("meldpunt", "signal_reporter").await;
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"casemanagers": ["petra"]}))
            .await
            .expect(StatusCode::OK);

        // Her household and its events, in the interchange format, without free text.
        let (ok, events, stderr) = export(&app, &["events", "--as", "petra"], None);
        assert!(ok, "{stderr}");
        assert_eq!(events.lines().count(), 3, "{events}");
        assert!(events.contains(r#""id":"H-0001""#) && !events.contains("H-0002"), "{events}");
        assert!(!events.contains("reason"), "{events}");
        let (_, with_text, _) = export(&app, &["events", "--as", "petra", "--with-text"], None);
        assert!(with_text.contains(r#""reason":"...""#), "{with_text}");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'timeline.read' AND actor = 'petra' AND household_id = 'H-0001'").await, 2);

        // Keyed pseudonyms: no id, the same pseudonym in every export with the same key.
        let key = "a-key-of-more-than-sixteen-characters";
        let (ok, pseudonymous, _) = export(&app, &["events", "--as", "petra", "--pseudonymise"], Some(key));
        assert!(ok);
        assert!(!pseudonymous.contains("H-0001") && pseudonymous.contains(r#""household":"P-"#), "{pseudonymous}");
        let (_, alerts, _) = export(&app, &["alerts", "--as", "petra", "--pseudonymise", "--format", "csv"], Some(key));
        let pseudonym = pseudonymous.split(r#""id":""#).nth(1).unwrap().split('"').next().unwrap();
        assert!(alerts.starts_with("household,rule,one_shot,severity,state"), "{alerts}");
        assert!(alerts.contains(&format!("{pseudonym},geen-directe-veiligheid,false,")), "{alerts}");
        let (ok, _, stderr) = export(&app, &["events", "--as", "petra", "--pseudonymise"], Some("short"));
        assert!(!ok && stderr.contains("at least 16 characters"), "{stderr}");

        // A role that sees no household exports nothing, and the attempt is audited.
        let (ok, out, _) = export(&app, &["households", "--as", "meldpunt"], None);
        assert!(!ok && out.is_empty());
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'meldpunt' AND outcome = 'denied'").await, 1);
    }
}
