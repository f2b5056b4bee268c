//! Registering households and recording their events.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, both, household_json};

both! {
    async fn a_casemanager_registers_a_household_and_reads_its_timeline_back(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let created = app.post(&cm, "/api/v1/households", household_json("H-0001")).await.expect(StatusCode::CREATED);
        assert_eq!(created.header("location"), "/api/v1/households/H-0001");
        assert_eq!(created.body["status"], "open");
        assert_eq!(created.body["assignments"], json!([{"username": "cm1", "relation": "casemanager"}]));

        app.score(&cm, "H-0001", "slachtoffer", 3, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.record(&cm, "H-0001", json!({
            "type": "signal", "at": "2025-02-01T22:10:00+01:00", "kind": "melding", "source": "politie", "acute": true
        })).await.expect(StatusCode::CREATED);
        app.record(&cm, "H-0001", json!({
            "type": "flag", "at": "2025-02-02T09:00:00+01:00", "flag": "intiem_terrorisme", "level": "waarschijnlijk"
        })).await.expect(StatusCode::CREATED);
        // Recorded out of order: the timeline is in time order.
        app.score(&cm, "H-0001", "casemanager", 5, "2025-01-20T10:00:00+01:00").await.expect(StatusCode::CREATED);

        let items = app.timeline(&cm, "H-0001").await;
        let types: Vec<&str> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["score", "score", "signal", "flag"]);
        assert_eq!(items[0]["value"], 3);
        assert_eq!(items[0]["at"], "2025-01-06T10:00:00+01:00");
        assert_eq!(items[0]["recorded_by"], "cm1");
        assert_eq!(items[2]["acute"], true);
        assert_eq!(items[3]["level"], "waarschijnlijk");
    }

    async fn a_stored_phase3_and_flag_become_escalation_steps(app: TestApp) {
        let rg = app.user("rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &[]).await;
        // `phase3` is no longer accepted ...
        app.post(&rg, "/api/v1/households/H-0001/events", json!({"type":"phase3","at":"2025-06-01T09:00:00+02:00"}))
            .await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "type");
        // ... and what was stored before is carried over by the migration.
        let old = [
            ("phase3", r#"{"type":"phase3","household":"H-0001","at":"2025-06-01T09:00:00+02:00"}"#),
            ("flag", r#"{"type":"flag","household":"H-0001","at":"2025-06-02T09:00:00+02:00","flag":"geweld_niet_te_stoppen","level":"zeker"}"#),
            ("flag", r#"{"type":"flag","household":"H-0001","at":"2025-06-03T09:00:00+02:00","flag":"geweld_niet_te_stoppen","level":"geen"}"#),
            ("flag", r#"{"type":"flag","household":"H-0001","at":"2025-06-04T09:00:00+02:00","flag":"intiem_terrorisme","level":"zeker"}"#),
        ];
        for (i, (kind, payload)) in old.iter().enumerate() {
            let at_ms = 1_748_761_200_000_i64 + i as i64 * 86_400_000;
            app.execute(&format!(
                "INSERT INTO events (household_id, type, at_ms, payload, recorded_at_ms) VALUES ('H-0001', '{kind}', {at_ms}, '{payload}', {at_ms})"
            )).await.unwrap();
        }
        let migration = match app.state.db.backend() {
            zicht::store::Backend::Sqlite => include_str!("../../migrations/sqlite/0006_escalation.sql"),
            zicht::store::Backend::Postgres => include_str!("../../migrations/postgres/0006_escalation.sql"),
        };
        app.execute_script(migration).await;
        let items = app.timeline(&rg, "H-0001").await;
        let steps: Vec<(String, Value)> = items.iter()
            .map(|e| (e["type"].as_str().unwrap().to_owned(), e.get("step").cloned().unwrap_or(Value::Null)))
            .collect();
        assert_eq!(steps, [
            ("escalation".to_owned(), json!(3)),
            ("escalation".to_owned(), json!(3)),
            ("escalation".to_owned(), json!(2)),
            ("flag".to_owned(), Value::Null),
        ]);
        assert!(items[0]["reason"].as_str().unwrap().starts_with("Overgezet"));
        assert_eq!(items[3]["flag"], "intiem_terrorisme", "other flags stay as they are");
    }

    async fn every_event_type_of_the_interchange_format_is_accepted(app: TestApp) {
        let rg = app.user("rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &[]).await;
        let events = [
            json!({"type":"consultation","at":"2025-02-10T09:00:00+01:00","specialism":"forensische_ggz"}),
            json!({"type":"intervention","at":"2025-02-12T09:00:00+01:00","description":"traject GGZ","effect_expected_by":"2025-04-15"}),
            json!({"type":"escalation","at":"2025-05-01T09:00:00+02:00","step":2,"reason":"procesregie ZVH"}),
            json!({"type":"escalation","at":"2025-06-01T09:00:00+02:00","step":3,"reason":"geweld niet te stoppen"}),
            json!({"type":"proactive_scenario","at":"2025-06-10T09:00:00+02:00"}),
            json!({"type":"partner_withdrawal","at":"2025-07-01T09:00:00+02:00","partner":"ggz"}),
            json!({"type":"closure","at":"2025-09-01T09:00:00+02:00","reason":"doelen bereikt"}),
            json!({"type":"reopen","at":"2026-01-05T09:00:00+01:00"}),
        ];
        for event in &events {
            app.record(&rg, "H-0001", event.clone()).await.expect(StatusCode::CREATED);
        }
        let items = app.timeline(&rg, "H-0001").await;
        assert_eq!(items.len(), events.len());
        for (item, sent) in items.iter().zip(&events) {
            for (field, value) in sent.as_object().unwrap() {
                assert_eq!(&item[field], value, "{field} of {sent}");
            }
        }
        let household = app.get(&rg, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
        assert_eq!(household.body["status"], "open");
    }

    async fn closing_twice_is_refused_and_stores_nothing(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let closure = json!({"type":"closure","at":"2025-09-01T09:00:00+02:00","reason":"doelen bereikt"});
        app.record(&cm, "H-0001", closure.clone()).await.expect(StatusCode::CREATED);
        app.record(&cm, "H-0001", closure).await.expect_problem(StatusCode::CONFLICT, "");
        let reopen = json!({"type":"reopen","at":"2026-01-05T09:00:00+01:00"});
        app.record(&cm, "H-0001", reopen.clone()).await.expect(StatusCode::CREATED);
        app.record(&cm, "H-0001", reopen).await.expect_problem(StatusCode::CONFLICT, "");
        assert_eq!(app.timeline(&cm, "H-0001").await.len(), 2);
    }

    async fn a_household_id_or_reference_is_registered_once(app: TestApp) {
        let mut h = household_json("H-0001");
        h["reference"] = json!("VT-2025-001");
        app.post(&app.admin_token, "/api/v1/households", h.clone()).await.expect(StatusCode::CREATED);
        app.post(&app.admin_token, "/api/v1/households", h.clone()).await.expect_problem(StatusCode::CONFLICT, "");
        h["id"] = json!("H-0002");
        app.post(&app.admin_token, "/api/v1/households", h).await.expect_problem(StatusCode::CONFLICT, "");
        assert_eq!(app.count("households").await, 1);
    }

    async fn a_retry_with_the_same_idempotency_key_stores_once(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let score = json!({"at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":4,"reason":"rustiger"});
        let first = app.post_with_key(&cm, "/api/v1/households/H-0001/scores", "visit-42", score.clone()).await
            .expect(StatusCode::CREATED);
        let again = app.post_with_key(&cm, "/api/v1/households/H-0001/scores", "visit-42", score.clone()).await
            .expect(StatusCode::CREATED);
        assert_eq!(first.body, again.body);
        assert_eq!(again.header("idempotent-replayed"), "true");
        assert_eq!(app.timeline(&cm, "H-0001").await.len(), 1);

        let other = json!({"at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":5});
        app.post_with_key(&cm, "/api/v1/households/H-0001/scores", "visit-42", other).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "");
        assert_eq!(app.timeline(&cm, "H-0001").await.len(), 1);

        // Concurrent retries: still one score.
        let sends = (0..6).map(|_| app.post_with_key(&cm, "/api/v1/households/H-0001/scores", "visit-43", score.clone()));
        for reply in futures_util::future::join_all(sends).await {
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        }
        assert_eq!(app.timeline(&cm, "H-0001").await.len(), 2);
    }

    async fn lists_are_paginated_and_filtered(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        for i in 0..7 {
            let mut h = household_json(&format!("H-{i:04}"));
            if i % 2 == 1 {
                h["gemeente"] = json!("Helmond");
            }
            app.post(&cm, "/api/v1/households", h).await.expect(StatusCode::CREATED);
        }
        app.record(&cm, "H-0003", json!({"type":"closure","at":"2025-01-06T09:00:00+01:00","reason":"doelen bereikt"}))
            .await.expect(StatusCode::CREATED);

        let mut seen = Vec::new();
        let mut path = "/api/v1/households?limit=3".to_owned();
        loop {
            let page = app.get(&cm, &path).await.expect(StatusCode::OK);
            let items = page.body["items"].as_array().unwrap();
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(|h| h["id"].as_str().unwrap().to_owned()));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/households?limit=3&cursor={cursor}"),
                None => break,
            }
        }
        let want: Vec<String> = (0..7).map(|i| format!("H-{i:04}")).collect();
        assert_eq!(seen, want);

        let ids = |reply: crate::helpers::Reply| -> Vec<String> {
            reply.body["items"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_owned()).collect()
        };
        let helmond = app.get(&cm, "/api/v1/households?gemeente=Helmond").await.expect(StatusCode::OK);
        assert_eq!(ids(helmond), ["H-0001", "H-0003", "H-0005"]);
        let closed = app.get(&cm, "/api/v1/households?status=closed").await.expect(StatusCode::OK);
        assert_eq!(ids(closed), ["H-0003"]);
        let open_helmond = app.get(&cm, "/api/v1/households?status=open&gemeente=Helmond&region=brabant-zuidoost").await;
        assert_eq!(ids(open_helmond.expect(StatusCode::OK)), ["H-0001", "H-0005"]);

        // Changes after a moment: only the household touched later.
        app.clock.advance(jiff::SignedDuration::from_hours(1));
        app.score(&cm, "H-0006", "casemanager", 6, "2025-01-07T10:00:00+01:00").await.expect(StatusCode::CREATED);
        let since = app.get(&cm, "/api/v1/households?updated_since=2025-01-06T10:30:00%2B01:00").await;
        assert_eq!(ids(since.expect(StatusCode::OK)), ["H-0006"]);

        app.get(&cm, "/api/v1/households?status=half").await.expect_problem(StatusCode::BAD_REQUEST, "status");
        app.get(&cm, "/api/v1/households?limit=0").await.expect_problem(StatusCode::BAD_REQUEST, "limit");
        app.get(&cm, "/api/v1/households?cursor=%%%").await.expect_problem(StatusCode::BAD_REQUEST, "");
        app.get(&cm, "/api/v1/households?gemente=Helmond").await.expect_problem(StatusCode::BAD_REQUEST, "");
    }

    async fn a_timeline_pages_through_many_events(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        for day in 1..=12 {
            let at = format!("2025-03-{day:02}T10:00:00+01:00");
            app.score(&cm, "H-0001", "casemanager", day % 11, &at).await.expect(StatusCode::CREATED);
        }
        let mut values = Vec::new();
        let mut path = "/api/v1/households/H-0001/timeline?limit=5".to_owned();
        loop {
            let page = app.get(&cm, &path).await.expect(StatusCode::OK);
            values.extend(page.body["items"].as_array().unwrap().iter().map(|e| e["value"].as_i64().unwrap()));
            match page.body["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/households/H-0001/timeline?limit=5&cursor={c}"),
                None => break,
            }
        }
        let want: Vec<i64> = (1..=12).map(|d| d % 11).collect();
        assert_eq!(values, want);
    }
}
