//! `zicht import`: JSON Lines in, households stored whole and evaluated at once.

use std::process::Command;

use reqwest::StatusCode;

use crate::helpers::{TestApp, both};

fn import(app: &TestApp, text: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, text).unwrap();
    Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args(["import", file.to_str().unwrap()])
        .env("DATABASE_URL", app.settings.database_url())
        .env("ZICHT_ALERTS_DIR", &app.settings.alerts_dir)
        .output()
        .unwrap()
}

const HISTORY: &str = r#"{"type":"household","id":"H-0001","region":"brabant-zuidoost","gemeente":"Eindhoven","wijk":"Woensel-Noord","minor_children":false,"opened_at":"2025-01-06"}
{"type":"score","household":"H-0001","at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":3,"reason":"..."}
{"type":"signal","household":"H-0001","at":"2025-02-01T22:10:00+01:00","kind":"melding","source":"politie","acute":true}
{"type":"household","id":"H-0002","region":"utrecht","gemeente":"Utrecht","minor_children":true,"opened_at":"2025-03-03"}
{"type":"score","household":"H-0002","at":"2025-03-03T10:00:00+01:00","perspective":"casemanager","value":7}
"#;

both! {
    async fn an_import_stores_whole_households_and_evaluates_them(app: TestApp) {
        let out = import(&app, HISTORY);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("imported 2 households and 3 events"));
        assert!(String::from_utf8_lossy(&out.stderr).contains("2/2 households"));
        assert_eq!(app.count("households").await, 2);
        assert_eq!(app.count("events").await, 3);
        // Evaluated at once: long past six weeks without direct safety.
        assert!(app.scalar("SELECT COUNT(*) FROM alerts WHERE rule = 'geen-directe-veiligheid' AND household_id = 'H-0001'").await == 1);

        // Importing the same household again is refused and adds nothing.
        let again = import(&app, HISTORY);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
        assert_eq!(app.count("events").await, 3);

        // A bad line is named, and nothing of the file is stored.
        let bad = HISTORY.replace("H-0001", "H-0009").replace("H-0002", "H-0008").replace("\"value\":7", "\"value\":17");
        let out = import(&app, &bad);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("line 5") && stderr.contains("0 to 10"), "{stderr}");
        assert_eq!(app.count("households").await, 2);
        let reply = app.get(&app.admin_token, "/api/v1/households?limit=10").await.expect(StatusCode::OK);
        assert_eq!(reply.body["items"].as_array().unwrap().len(), 2);
    }
}

both! {
    async fn an_import_keeps_history_but_not_scores_from_before_the_trajectory(app: TestApp) {
        // The melding of December came before the trajectory opened: history, kept.
        let with_history = HISTORY.replace(
            "{\"type\":\"signal\",\"household\":\"H-0001\",\"at\":\"2025-02-01T22:10:00+01:00\"",
            "{\"type\":\"signal\",\"household\":\"H-0001\",\"at\":\"2024-12-01T22:10:00+01:00\"",
        );
        let out = import(&app, &with_history);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(app.count("events").await, 3);

        // A score of 2019 on a trajectory of 2025 is refused, named, and nothing is stored.
        let early = HISTORY
            .replace("H-0001", "H-0011")
            .replace("H-0002", "H-0012")
            .replace("\"at\":\"2025-03-03T10:00:00+01:00\"", "\"at\":\"2019-03-03T10:00:00+01:00\"");
        let out = import(&app, &early);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("H-0012") && stderr.contains("before the trajectory opened"), "{stderr}");
        assert_eq!(app.count("households").await, 2);
    }
}
