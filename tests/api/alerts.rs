//! Alerts live: fired by events at once, by time through the scheduler, caught up after a
//! restart, and acknowledged or silenced by the regisseur.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use zicht::clock::ManualClock;
use zicht::http::App;

use crate::helpers::{TestApp, both};

fn pair(rule: &str, state: &str) -> (String, String) {
    (rule.to_owned(), state.to_owned())
}

async fn alert_id(app: &TestApp, token: &str, rule: &str) -> i64 {
    let reply = app
        .get(token, &format!("/api/v1/alerts?rule={rule}"))
        .await
        .expect(StatusCode::OK);
    reply.body["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no {rule} alert: {}", reply.text))
}

both! {
    async fn an_event_fires_an_alert_at_once_with_its_evidence(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let rg = app.user("rg1", "regisseur").await;
        let other = app.user("rg2", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.score(&cm, "H-0001", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        assert!(app.alerts(&rg, "").await.is_empty());
        let victim = app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);

        assert_eq!(app.alerts(&rg, "").await, [pair("uiteenlopende-scores", "firing")]);
        assert_eq!(app.alerts(&cm, "&state=firing").await, [pair("uiteenlopende-scores", "firing")]);
        assert!(app.alerts(&other, "").await.is_empty());
        let id = alert_id(&app, &rg, "uiteenlopende-scores").await;
        let detail = app.get(&rg, &format!("/api/v1/alerts/{id}")).await.expect(StatusCode::OK);
        assert_eq!(detail.body["severity"], "warning");
        assert!(detail.body["advice"].as_str().unwrap().contains("slachtoffer apart"));
        let evidence: Vec<i64> = detail.body["evidence"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(evidence.contains(&victim.body["id"].as_i64().unwrap()));
        assert_eq!(detail.body["history"][0]["why"], "first");
        assert_eq!(detail.body["history"][0]["actor"], "zicht");
        app.get(&other, &format!("/api/v1/alerts/{id}")).await.expect_problem(StatusCode::NOT_FOUND, "");
        app.get(&other, "/api/v1/alerts/999999").await.expect_problem(StatusCode::NOT_FOUND, "");

        // The victim's next score is above the professional's: the mean gap of the two (2.5)
        // is under the lasting one (3), resolved at once.
        app.score(&cm, "H-0001", "slachtoffer", 9, "2025-01-07T10:00:00+01:00").await.expect(StatusCode::CREATED);
        assert_eq!(app.alerts(&rg, "").await, [pair("uiteenlopende-scores", "resolved")]);
        let detail = app.get(&rg, &format!("/api/v1/alerts/{id}")).await.expect(StatusCode::OK);
        let whys: Vec<&str> = detail.body["history"].as_array().unwrap().iter().map(|t| t["why"].as_str().unwrap()).collect();
        assert_eq!(whys, ["first", "resolved"]);
    }

    async fn a_deadline_fires_through_the_scheduler_on_time_and_after_a_restart(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let rg = app.user("rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        for (day, at) in [(6, "2025-01-06"), (13, "2025-01-13"), (20, "2025-01-20"), (27, "2025-01-27"), (3, "2025-02-03"), (10, "2025-02-10")] {
            let _ = day;
            app.score(&cm, "H-0001", "slachtoffer", 3, &format!("{at}T10:00:00+01:00")).await.expect(StatusCode::CREATED);
        }
        // Nothing is due before the deadline: the scheduler looks at no household at all.
        app.at("2025-02-16T23:59:59+01:00");
        assert_eq!(app.tick().await, 0);
        assert!(app.alerts(&rg, "").await.is_empty());
        app.at("2025-02-17T00:00:00+01:00");
        assert_eq!(app.tick().await, 1);
        assert_eq!(app.alerts(&rg, "").await, [pair("geen-directe-veiligheid", "firing")]);
        let id = alert_id(&app, &rg, "geen-directe-veiligheid").await;
        let detail = app.get(&rg, &format!("/api/v1/alerts/{id}")).await.expect(StatusCode::OK);
        assert_eq!(detail.body["fired_at"], "2025-02-17T00:00:00+01:00");

        // zicht is down over the next deadline (21 days without a score while unsafe: 3 March
        // 10:00) and starts again on 10 March: the missed deadline is caught up at once.
        let mut settings = app.settings.clone();
        settings.listen = "127.0.0.1:0".parse().unwrap();
        let restarted = App::build(settings, Arc::new(ManualClock::new("2025-03-10T08:00:00+01:00".parse().unwrap()))).await.unwrap();
        let evaluated = zicht::app::alerting::run_due(&restarted.state, "2025-03-10T08:00:00+01:00".parse().unwrap()).await.unwrap();
        assert_eq!(evaluated, 1);
        let mut alerts = app.alerts(&rg, "").await;
        alerts.sort();
        assert_eq!(alerts, [pair("geen-directe-veiligheid", "firing"), pair("meting-achterstallig", "firing")]);
        let id = alert_id(&app, &rg, "meting-achterstallig").await;
        let detail = app.get(&rg, &format!("/api/v1/alerts/{id}")).await.expect(StatusCode::OK);
        assert_eq!(detail.body["since"], "2025-03-03T10:00:00+01:00");
        assert_eq!(detail.body["fired_at"], "2025-03-10T08:00:00+01:00");
        // Caught up once: a second run changes nothing.
        app.at("2025-03-10T08:00:00+01:00");
        app.tick().await;
        let detail2 = app.get(&rg, &format!("/api/v1/alerts/{id}")).await.expect(StatusCode::OK);
        assert_eq!(detail.body["history"], detail2.body["history"]);
    }

    async fn the_regisseur_acknowledges_and_silences(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let rg = app.user("rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.score(&cm, "H-0001", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        let id = alert_id(&app, &rg, "uiteenlopende-scores").await;
        let ack_path = format!("/api/v1/alerts/{id}/acknowledge");
        let ack = |body: Value| app.post(&rg, &ack_path, body);

        ack(json!({"decision": "specialist_consult", "reason": "vermoeden dwingende controle"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "specialism");
        ack(json!({"decision": "bijschalen"})).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "reason");
        ack(json!({"decision": "afwachten", "reason": "x"})).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "decision");
        ack(json!({"decision": "geen_actie", "specialism": "forensische_ggz", "reason": "x"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "specialism");
        app.post(&cm, &format!("/api/v1/alerts/{id}/acknowledge"), json!({"decision": "geen_actie", "reason": "x"}))
            .await.expect_problem(StatusCode::FORBIDDEN, "");

        let acked = ack(json!({"decision": "specialist_consult", "specialism": "forensische_ggz", "reason": "vermoeden dwingende controle"}))
            .await.expect(StatusCode::OK);
        assert_eq!(acked.body["state"], "acknowledged");
        let detail = app.get(&rg, &format!("/api/v1/alerts/{id}")).await.expect(StatusCode::OK);
        let last = detail.body["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["actor"], "rg1");
        assert_eq!(last["decision"], "specialist_consult");
        assert_eq!(last["specialism"], "forensische_ggz");
        assert_eq!(last["reason"], "vermoeden dwingende controle");

        let silence_path = format!("/api/v1/alerts/{id}/silence");
        let silence = |body: Value| app.post(&rg, &silence_path, body);
        silence(json!({"reason": "gesprek gepland", "until": "2025-01-01"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "until");
        silence(json!({"until": "2025-01-20"})).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "reason");
        // At most a year: 366 days from now (2025-01-06 10:00) ends within it, 367 does not.
        silence(json!({"reason": "lang", "until": "2026-01-08"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "until");
        let silenced = silence(json!({"reason": "gesprek gepland", "until": "2025-01-20"})).await.expect(StatusCode::OK);
        assert_eq!(silenced.body["state"], "silenced");
        assert_eq!(silenced.body["silenced_until"], "2025-01-20T00:00:00+01:00");

        // The silence ends while the alert still fires: it fires again at once.
        app.at("2025-01-19T23:59:59+01:00");
        app.tick().await;
        assert_eq!(app.alerts(&rg, "").await, [pair("uiteenlopende-scores", "silenced")]);
        app.at("2025-01-20T00:00:00+01:00");
        assert_eq!(app.tick().await, 1);
        assert_eq!(app.alerts(&rg, "").await, [pair("uiteenlopende-scores", "firing")]);
        let detail = app.get(&rg, &format!("/api/v1/alerts/{id}")).await.expect(StatusCode::OK);
        let last = detail.body["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["why"], "silence_expired");

        // Silenced and then resolved: reported as resolved.
        silence(json!({"reason": "opnieuw", "until": "2025-02-20"})).await.expect(StatusCode::OK);
        app.score(&cm, "H-0001", "slachtoffer", 7, "2025-01-21T10:00:00+01:00").await.expect(StatusCode::CREATED);
        assert_eq!(app.alerts(&rg, "").await, [pair("uiteenlopende-scores", "resolved")]);
        ack(json!({"decision": "geen_actie", "reason": "x"})).await.expect_problem(StatusCode::CONFLICT, "");

        // Every decision is in the audit log, and alert history cannot be erased.
        let audit = app.get(&app.admin_token, "/api/v1/audit?household=H-0001&limit=500").await.expect(StatusCode::OK);
        let actions: Vec<&str> = audit.body["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"alert.acknowledge") && actions.contains(&"alert.silence"), "{actions:?}");
        assert!(app.execute("DELETE FROM alert_transitions").await.is_err());
        assert!(app.execute("DELETE FROM alerts").await.is_err());
    }

    async fn monitors_and_admins_see_no_alerts(app: TestApp) {
        let monitor = app.user("aov1", "gemeente_monitor").await;
        app.get(&monitor, "/api/v1/alerts").await.expect_problem(StatusCode::FORBIDDEN, "");
        app.get(&app.admin_token, "/api/v1/alerts").await.expect_problem(StatusCode::FORBIDDEN, "");
        let cm = app.user("cm1", "casemanager").await;
        app.get(&cm, "/api/v1/alerts?state=kapot").await.expect_problem(StatusCode::BAD_REQUEST, "state");
    }
}

#[tokio::test]
async fn a_failed_rule_reload_keeps_the_rules_in_force() {
    let app = TestApp::spawn_sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(app.settings.alerts_dir.join("rules.toml")).unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        shipped.replace(
            "params = { weeks = 6, current_days = 14 }",
            "params = { weeks = \"zes\", current_days = 14 }",
        ),
    )
    .unwrap();
    // Starting on an invalid rule set is refused, naming the file, the rule and the field.
    let mut settings = app.settings.clone();
    settings.alerts_dir = dir.path().to_owned();
    settings.listen = "127.0.0.1:0".parse().unwrap();
    let refused = App::build(
        settings.clone(),
        Arc::new(ManualClock::new(crate::helpers::start_time())),
    )
    .await;
    let message = refused
        .err()
        .expect("an invalid rule set stops the start")
        .to_string();
    assert!(
        message.contains("rules.toml")
            && message.contains("geen-directe-veiligheid")
            && message.contains("params.weeks"),
        "{message}"
    );

    // A running app keeps its rules when a reload finds them invalid, and takes valid ones.
    std::fs::write(dir.path().join("rules.toml"), &shipped).unwrap();
    let running = App::build(
        settings,
        Arc::new(ManualClock::new(crate::helpers::start_time())),
    )
    .await
    .unwrap();
    std::fs::write(dir.path().join("rules.toml"), "[[rule]]\nid = \"kapot\"\n").unwrap();
    assert!(running.state.reload_rules().await.is_err());
    assert_eq!(running.state.rules().len(), 13);
    std::fs::write(
        dir.path().join("rules.toml"),
        shipped.replace(
            "params = { weeks = 6, current_days = 14 }",
            "params = { weeks = 4, current_days = 14 }",
        ),
    )
    .unwrap();
    assert_eq!(running.state.reload_rules().await.unwrap(), 13);
    let rules = running.state.rules();
    let weeks = rules
        .for_region(zicht::domain::Region::Utrecht)
        .rules
        .iter()
        .find_map(|r| match &r.detector {
            zicht::engine::Detector::GeenDirecteVeiligheid(p) => Some(p.weeks),
            _ => None,
        });
    assert_eq!(weeks, Some(4));
}

#[tokio::test]
async fn without_a_rules_directory_the_built_in_national_rules_apply() {
    let app = TestApp::spawn_sqlite().await;
    let mut settings = app.settings.clone();
    settings.alerts_dir = app.settings.data_dir.join("no-rules-here");
    settings.listen = "127.0.0.1:0".parse().unwrap();
    let elsewhere = App::build(
        settings,
        Arc::new(ManualClock::new(crate::helpers::start_time())),
    )
    .await
    .expect("starts from a directory without alerts/");
    let built_in = elsewhere.state.rules();
    let shipped = zicht::rules::load_dir(&app.settings.alerts_dir).unwrap();
    assert_eq!(built_in.rule_ids(), shipped.rule_ids());
    assert_eq!(built_in.len(), 13);
}
