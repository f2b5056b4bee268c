//! Bad input gets a precise problem+json answer, never a 5xx, never half a write.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, both, household_json};

both! {
    async fn invalid_scores_name_the_field_and_store_nothing(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let path = "/api/v1/households/H-0001/scores";
        let ok = json!({"at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":4});
        let cases = [
            ("value", json!({"value": 11})),
            ("value", json!({"value": -1})),
            ("value", json!({"value": 6.5})),
            ("value", json!({"value": "6"})),
            ("perspective", json!({"perspective": "buurman"})),
            ("at", json!({"at": "2025-01-06T10:00:00"})),
            ("at", json!({"at": "6 januari 2025"})),
            ("reason", json!({"reason": "x".repeat(2001)})),
            ("naam", json!({"naam": "Jan"})),
            ("household", json!({"household": "H-0002"})),
            ("type", json!({"type": "signal"})),
        ];
        for (field, change) in cases {
            let mut body = ok.clone();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let reply = app.post(&cm, path, body).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, field);
            assert!(!reply.body["detail"].as_str().unwrap().is_empty());
        }
        let mut missing = ok.clone();
        missing.as_object_mut().unwrap().remove("perspective");
        app.post(&cm, path, missing).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "perspective");
        assert!(app.timeline(&cm, "H-0001").await.is_empty());
        assert_eq!(app.count("events").await, 0);
    }

    async fn errors_say_what_is_allowed(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let reply = app.post(&cm, "/api/v1/households/H-0001/signals", json!({
            "at":"2025-02-01T22:10:00+01:00","kind":"roddel","source":"politie","acute":false
        })).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "kind");
        let message = reply.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("melding") && message.contains("huisverbod"), "{message}");

        let reply = app.score(&cm, "H-0001", "slachtoffer", 12, "2025-01-06T10:00:00+01:00").await;
        let reply = reply.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "value");
        assert_eq!(reply.body["errors"][0]["message"], "must be a whole number from 0 to 10");

        let reply = app.score(&cm, "H-0001", "slachtoffer", 5, "2025-01-06 10:00").await;
        let reply = reply.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains("offset"));

        let reply = app.post(&cm, "/api/v1/households/H-0001/events", json!({"at":"2025-02-01T22:10:00+01:00"})).await;
        reply.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "type");
        let reply = app.post(&cm, "/api/v1/households/H-0001/events", json!({
            "type":"score","at":"2025-02-01T22:10:00+01:00","perspective":"pleger","value":3
        })).await;
        reply.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "type");
    }

    async fn invalid_households_are_refused(app: TestApp) {
        let path = "/api/v1/households";
        let token = app.admin_token.clone();
        let mut no_gemeente = household_json("H-0001");
        no_gemeente.as_object_mut().unwrap().remove("gemeente");
        app.post(&token, path, no_gemeente).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "gemeente");
        let mut blank = household_json("H-0001");
        blank["gemeente"] = json!("   ");
        app.post(&token, path, blank).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "gemeente");
        let mut region = household_json("H-0001");
        region["region"] = json!("randstad");
        app.post(&token, path, region).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "region");
        let mut name = household_json("Familie de Vries");
        name["id"] = json!("Familie de Vries");
        app.post(&token, path, name).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "id");
        let mut address = household_json("H-0001");
        address["adres"] = json!("Kerkstraat 1");
        app.post(&token, path, address).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "adres");
        let mut date = household_json("H-0001");
        date["opened_at"] = json!("06-01-2025");
        app.post(&token, path, date).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "opened_at");
        // Ids and references are codes: never a name or an address, never a path.
        for (field, bad) in [
            ("id", "Jan-de-Vries-Kerkstraat-12-Eindhoven"),
            ("id", "D-0001/../D-0002"),
            ("reference", "VT 2025 1"),
        ] {
            let mut h = household_json("H-0001");
            h[field] = json!(bad);
            let reply = app.post(&token, path, h).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, field);
            assert!(reply.body.to_string().contains("never a name"), "{}", reply.body);
        }
        // One place has one spelling: nothing invisible, no text-direction tricks.
        for (field, bad) in [("gemeente", "Eind\u{200b}hoven"), ("wijk", "Woensel\u{202e}-Noord")] {
            let mut h = household_json("H-0001");
            h[field] = json!(bad);
            app.post(&token, path, h).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, field);
        }
        // A gemeente is one of CBS's list, kept under its official name.
        let mut atlantis = household_json("H-0001");
        atlantis["gemeente"] = json!("Atlantis");
        let reply = app.post(&token, path, atlantis).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "gemeente");
        assert!(reply.body.to_string().contains("CBS"), "{}", reply.body);
        for bad in ["0000-01-06", "1999-12-31"] {
            let mut h = household_json("H-0001");
            h["opened_at"] = json!(bad);
            app.post(&token, path, h).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "opened_at");
        }
        assert_eq!(app.count("households").await, 0);
        // "den haag" is 's-Gravenhage, for a household and for the monitor who watches it alike.
        let mut den_haag = household_json("H-0002");
        den_haag["gemeente"] = json!(" den haag ");
        den_haag["region"] = json!("haaglanden");
        let created = app.post(&token, path, den_haag).await.expect(StatusCode::CREATED);
        assert_eq!(created.body["gemeente"], "'s-Gravenhage");
        let monitor = app.post(&token, "/api/v1/users", json!({"username": "aov-dh", "role": "gemeente_monitor", "gemeente": "Den Haag"}))
            .await.expect(StatusCode::CREATED);
        assert_eq!(monitor.body["gemeente"], "'s-Gravenhage");
        app.post(&token, "/api/v1/users", json!({"username": "aov-x", "role": "gemeente_monitor", "gemeente": "Atlantis"}))
            .await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "gemeente");
        // A time with an offset no place on earth has is refused, not stored.
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let reply = app.score(&cm, "H-0001", "slachtoffer", 5, "2025-01-06T10:00:00+25:00").await;
        reply.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        assert_eq!(app.count("events").await, 0);
    }

    async fn malformed_oversized_and_non_json_bodies_are_refused(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let url = app.url("/api/v1/households/H-0001/scores");
        let client = reqwest::Client::new();

        let reply = client.post(&url).bearer_auth(&cm).header("content-type", "application/json")
            .body("{\"value\": 4,").send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
        assert_eq!(reply.headers()["content-type"], "application/problem+json");

        let reply = client.post(&url).bearer_auth(&cm).header("content-type", "text/plain")
            .body("value=4").send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

        let huge = json!({"at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":4,
                          "reason": "x".repeat(app.settings.max_body_bytes)});
        let reply = client.post(&url).bearer_auth(&cm).json(&huge).send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.headers()["content-type"], "application/problem+json");

        let reply = client.post(&url).bearer_auth(&cm).json(&json!([1, 2])).send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("events").await, 0);
    }

    async fn free_text_never_reaches_a_log_line(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let marker = format!("geheim-{}", uuid::Uuid::new_v4().simple());
        app.post(&cm, "/api/v1/households/H-0001/scores", json!({
            "at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":4,"reason": marker
        })).await.expect(StatusCode::CREATED);
        app.record(&cm, "H-0001", json!({
            "type":"intervention","at":"2025-01-07T10:00:00+01:00","description": marker
        })).await.expect(StatusCode::CREATED);
        // A refused value is not echoed into the logs either.
        app.post(&cm, "/api/v1/households/H-0001/scores", json!({
            "at":"2025-01-06T10:00:00+01:00","perspective": marker,"value":4
        })).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        app.timeline(&cm, "H-0001").await;
        let logs = crate::helpers::captured_logs();
        let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(logs.contains("request"), "the test captures the app's logs");
        assert!(!logs.contains(&marker), "free text leaked into the logs");
        // Each answered request is one line at the default level, by route template and status,
        // never by the path with its household id.
        assert!(logs.contains("finished processing request"), "requests are logged");
        assert!(logs.contains("/api/v1/households/{id}/scores"), "by route template");
        assert!(!logs.contains("/api/v1/households/H-0001"), "a household id leaked into the logs");
    }
}

both! {
    async fn a_filter_that_cannot_be_a_value_is_refused_never_a_failure(app: TestApp) {
        let rg = app.user("rg1", "regisseur").await;
        // A NUL byte is text SQLite stores and PostgreSQL refuses: it is stopped at the edge.
        for (token, path, field) in [
            (&rg, "/api/v1/alerts?household=%00", "household"),
            (&rg, "/api/v1/alerts?gemeente=%00", "gemeente"),
            (&rg, "/api/v1/alerts?rule=%00", "rule"),
            (&rg, "/api/v1/alerts?rule=bestaat-niet", "rule"),
            (&rg, "/api/v1/inbox?rule=%00", "rule"),
            (&app.admin_token, "/api/v1/audit?household=%00", "household"),
        ] {
            let reply = app.get(token, path).await;
            assert!(reply.status.is_client_error(), "{path}: {}", reply.text);
            assert!(reply.text.contains(field), "{path}: {}", reply.text);
        }
        app.get(&rg, "/api/v1/households/%00").await.expect_problem(StatusCode::NOT_FOUND, "");
        // An id no 64-bit integer holds (schemathesis sent it): a problem, never plain text.
        for path in ["/api/v1/alerts/9223372036854775808", "/api/v1/inbox/abc/read"] {
            let reply = if path.ends_with("/read") { app.post(&rg, path, serde_json::json!({})).await } else { app.get(&rg, path).await };
            assert!(reply.status.is_client_error(), "{path}: {}", reply.text);
            assert_eq!(reply.header("content-type"), "application/problem+json", "{path}");
            assert_eq!(reply.body["status"], reply.status.as_u16(), "{path}: {}", reply.text);
        }
        assert_eq!(app.alerts(&rg, "&rule=terugval&household=H-0001&gemeente=Eindhoven").await.len(), 0);
    }
}

/// The problem's field errors as (field, message).
fn errors(reply: &crate::helpers::Reply) -> Vec<(String, String)> {
    reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

both! {
    async fn events_are_dated_inside_their_trajectory_and_never_in_the_future(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let events = "/api/v1/households/H-0001/events";
        let scores = "/api/v1/households/H-0001/scores";
        let signals = "/api/v1/households/H-0001/signals";
        let score = |at: &str| json!({"at": at, "perspective": "slachtoffer", "value": 4});
        // The clock stands at 2025-01-06T10:00+01:00, the morning the trajectory opened.
        let before = app.post(&cm, scores, score("2019-05-01T10:00:00+02:00")).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        assert_eq!(errors(&before)[0].1, "must not be before the trajectory opened (2025-01-06T00:00:00+01:00)");
        let next_year = app.post(&cm, scores, score("2026-01-06T10:00:00+01:00")).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        assert!(errors(&next_year)[0].1.contains("later than now"), "{:?}", errors(&next_year));
        // A few minutes of clock difference are allowed, more are not.
        app.post(&cm, scores, score("2025-01-06T10:06:00+01:00")).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        app.post(&cm, scores, score("2025-01-06T10:04:00+01:00")).await.expect(StatusCode::CREATED);
        // A signal is history: the melding that opened the trajectory came before it.
        app.post(&cm, signals, json!({"at":"2024-12-20T22:00:00+01:00","kind":"melding","source":"politie","acute":true}))
            .await.expect(StatusCode::CREATED);
        app.post(&cm, signals, json!({"at":"2026-01-01T00:00:00+01:00","kind":"melding","source":"politie","acute":false}))
            .await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        assert_eq!(app.count("events").await, 2, "nothing refused was stored");

        app.at("2025-03-01T12:00:00+01:00");
        // Every problem at once, each on its field.
        let intervention = app.post(&cm, events, json!({"type":"intervention","at":"2024-12-01T09:00:00+01:00","effect_expected_by":"2024-11-01"}))
            .await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        let fields: Vec<String> = errors(&intervention).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["at", "description", "effect_expected_by"]);
        app.post(&cm, events, json!({"type":"intervention","at":"2025-02-01T09:00:00+01:00","description":"Start GGZ"}))
            .await.expect(StatusCode::CREATED);
        // A closure says why, and is not dated before the trajectory.
        let closure = app.post(&cm, events, json!({"type":"closure","at":"2025-03-01T09:00:00+01:00"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "reason");
        assert_eq!(errors(&closure)[0].1, "required: why the trajectory is closed");
        app.post(&cm, events, json!({"type":"closure","at":"2025-03-01T09:00:00+01:00","reason":"   "})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "reason");
        app.post(&cm, events, json!({"type":"closure","at":"2024-12-31T09:00:00+01:00","reason":"klaar"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        assert_eq!(app.count("events").await, 3);
        app.post(&cm, events, json!({"type":"closure","at":"2025-03-01T09:00:00+01:00","reason":"doelen bereikt"})).await
            .expect(StatusCode::CREATED);
        // A reopen follows its closure; then T0 is the reopen.
        app.at("2025-06-01T12:00:00+02:00");
        app.post(&cm, events, json!({"type":"reopen","at":"2025-02-28T09:00:00+01:00"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        app.post(&cm, events, json!({"type":"reopen","at":"2025-05-01T09:00:00+02:00"})).await.expect(StatusCode::CREATED);
        let old = app.post(&cm, scores, score("2025-04-01T10:00:00+02:00")).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        assert!(errors(&old)[0].1.contains("2025-05-01T09:00:00+02:00"), "{:?}", errors(&old));
        app.post(&cm, signals, json!({"at":"2025-04-01T10:00:00+02:00","kind":"melding","source":"huisarts","acute":false}))
            .await.expect(StatusCode::CREATED);
        app.post(&cm, scores, score("2025-05-02T10:00:00+02:00")).await.expect(StatusCode::CREATED);
        assert_eq!(app.count("events").await, 7);
        let household = app.get(&cm, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
        assert_eq!(household.body["status"], "open");
    }

    async fn a_household_does_not_open_in_the_future(app: TestApp) {
        let mut h = household_json("H-0001");
        h["opened_at"] = json!("2025-01-07");
        let reply = app.post(&app.admin_token, "/api/v1/households", h).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "opened_at");
        assert_eq!(errors(&reply)[0].1, "must be today or earlier");
        let mut h = household_json("H-0001");
        h["opened_at"] = json!("2019-03-04");
        app.post(&app.admin_token, "/api/v1/households", h).await.expect(StatusCode::CREATED);
        assert_eq!(app.count("households").await, 1);
    }

    async fn a_report_dated_in_the_future_is_refused_alike_for_known_and_unknown_references(app: TestApp) {
        let reporter = app.user("woonbedrijf", "signal_reporter").await;
        let mut h = household_json("H-0001");
        h["reference"] = json!("VT-2025-001");
        app.post(&app.admin_token, "/api/v1/households", h).await.expect(StatusCode::CREATED);
        let report = |reference: &str| json!({
            "reference": reference, "at": "2026-01-06T09:00:00+01:00",
            "kind": "zorgsignaal", "source": "woningcorporatie", "acute": false
        });
        let known = app.post(&reporter, "/api/v1/reports", report("VT-2025-001")).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        let unknown = app.post(&reporter, "/api/v1/reports", report("VT-1999-999")).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
        assert_eq!(known.body, unknown.body, "the answer tells nothing about the reference");
        assert_eq!(app.count("signal_reports").await, 0);
        assert_eq!(app.count("events").await, 0);
    }
}
