//! Who may see and write what: one policy, checked on every request.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, both, household_json};

both! {
    async fn casemanagers_and_regisseurs_see_only_their_households(app: TestApp) {
        let cm1 = app.user("cm1", "casemanager").await;
        let cm2 = app.user("cm2", "casemanager").await;
        let rg1 = app.user("rg1", "regisseur").await;
        let rg2 = app.user("rg2", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.household("H-0002", Some("rg2"), &["cm2"]).await;

        for token in [&cm1, &rg1] {
            app.get(token, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
            app.get(token, "/api/v1/households/H-0001/timeline").await.expect(StatusCode::OK);
            app.score(token, "H-0001", "casemanager", 5, "2025-01-08T10:00:00+01:00").await.expect(StatusCode::CREATED);
            let list = app.get(token, "/api/v1/households").await.expect(StatusCode::OK);
            let ids: Vec<&str> = list.body["items"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap()).collect();
            assert_eq!(ids, ["H-0001"]);
        }
        for token in [&cm2, &rg2] {
            let other = app.get(token, "/api/v1/households/H-0001").await.expect_problem(StatusCode::NOT_FOUND, "");
            let missing = app.get(token, "/api/v1/households/H-9999").await.expect_problem(StatusCode::NOT_FOUND, "");
            // A refusal reads exactly like a household that does not exist.
            assert_eq!(other.body, missing.body);
            app.get(token, "/api/v1/households/H-0001/timeline").await.expect_problem(StatusCode::NOT_FOUND, "");
            app.score(token, "H-0001", "casemanager", 5, "2025-01-08T10:00:00+01:00").await
                .expect_problem(StatusCode::NOT_FOUND, "");
            app.post(token, "/api/v1/households/H-0001/events", json!({"type":"closure","at":"2025-09-01T09:00:00+02:00"}))
                .await.expect_problem(StatusCode::NOT_FOUND, "");
        }
        assert_eq!(app.timeline(&cm1, "H-0001").await.len(), 2);
        let household = app.get(&cm1, "/api/v1/households/H-0001").await;
        assert_eq!(household.body["status"], "open");
    }

    async fn monitors_reporters_specialists_and_admins_get_no_household_detail(app: TestApp) {
        let monitor = app.user("aov1", "gemeente_monitor").await;
        let reporter = app.user("wijkagent1", "signal_reporter").await;
        let specialist = app.user("sp1", "specialist").await;
        app.household("H-0001", None, &[]).await;
        for token in [&monitor, &reporter, &specialist, &app.admin_token] {
            app.get(token, "/api/v1/households/H-0001").await.expect_problem(StatusCode::NOT_FOUND, "");
            app.get(token, "/api/v1/households/H-0001/timeline").await.expect_problem(StatusCode::NOT_FOUND, "");
            app.score(token, "H-0001", "casemanager", 5, "2025-01-08T10:00:00+01:00").await
                .expect_problem(StatusCode::NOT_FOUND, "");
        }
        for token in [&monitor, &reporter, &specialist] {
            app.get(token, "/api/v1/households").await.expect_problem(StatusCode::FORBIDDEN, "");
            app.post(token, "/api/v1/households", household_json("H-0009")).await.expect_problem(StatusCode::FORBIDDEN, "");
            app.get(token, "/api/v1/users").await.expect_problem(StatusCode::FORBIDDEN, "");
            app.get(token, "/api/v1/audit").await.expect_problem(StatusCode::FORBIDDEN, "");
        }
        assert_eq!(app.count("events").await, 0);
        assert_eq!(app.count("households").await, 1);
    }

    async fn only_admins_manage_users_tokens_and_assignments(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let rg = app.user("rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        for token in [&cm, &rg] {
            app.post(token, "/api/v1/users", json!({"username":"x1","role":"admin"})).await
                .expect_problem(StatusCode::FORBIDDEN, "");
            app.post(token, "/api/v1/users/1/tokens", json!({"name":"mine"})).await
                .expect_problem(StatusCode::FORBIDDEN, "");
            app.request(Method::DELETE, "/api/v1/tokens/1", Some(token), None).await
                .expect_problem(StatusCode::FORBIDDEN, "");
            app.put(token, "/api/v1/households/H-0001/assignments", json!({"casemanagers":["cm1"]})).await
                .expect_problem(StatusCode::FORBIDDEN, "");
        }
        // Assignments need users of the right role.
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"regisseur":"cm1"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "regisseur");
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"casemanagers":["nobody"]})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "casemanagers[0]");
        app.put(&app.admin_token, "/api/v1/households/H-0404/assignments", json!({"casemanagers":["cm1"]})).await
            .expect_problem(StatusCode::NOT_FOUND, "");
        // Reassigning takes access away at once.
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"regisseur":"rg1"})).await
            .expect(StatusCode::OK);
        app.get(&cm, "/api/v1/households/H-0001").await.expect_problem(StatusCode::NOT_FOUND, "");
        app.get(&rg, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
    }

    async fn every_api_route_needs_a_valid_token(app: TestApp) {
        let doc = app.get(&app.admin_token, "/api/v1/openapi.json").await.expect(StatusCode::OK).body;
        let public = ["/healthz", "/readyz"];
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let concrete = path.replace("{id}", "1");
            for method in item.as_object().unwrap().keys() {
                let method: Method = method.to_uppercase().parse().unwrap();
                let anonymous = app.request(method.clone(), &concrete, None, None).await;
                let forged = app.request(method.clone(), &concrete, Some("zicht_forged"), None).await;
                if public.contains(&path.as_str()) {
                    assert_eq!(anonymous.status, StatusCode::OK, "{method} {path}");
                } else {
                    anonymous.expect_problem(StatusCode::UNAUTHORIZED, "");
                    forged.expect_problem(StatusCode::UNAUTHORIZED, "");
                }
                checked += 1;
            }
        }
        assert!(checked >= 17, "only {checked} operations in the OpenAPI document");
    }
}
