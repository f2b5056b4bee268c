//! Users and tokens; the first start.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::json;
use zicht::clock::ManualClock;
use zicht::http::App;

use crate::helpers::{TestApp, both, start_time};

both! {
    async fn a_password_change_is_checked_and_audited_as_such(app: TestApp) {
        let t = app.admin_token.clone();
        let user = app.post(&t, "/api/v1/users", json!({"username":"cm1","role":"casemanager"})).await
            .expect(StatusCode::CREATED);
        let path = format!("/api/v1/users/{}/password", user.body["id"]);
        app.put(&t, &path, json!({"password": "elf-tekens!"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "password");
        app.put(&t, "/api/v1/users/999/password", json!({"password": "twaalf-tekens"})).await
            .expect_problem(StatusCode::NOT_FOUND, "");
        let done = app.put(&t, &path, json!({"password": "twaalf-tekens"})).await;
        assert_eq!(done.status, StatusCode::NO_CONTENT);
        let audit = app.get(&t, "/api/v1/audit?limit=500").await.expect(StatusCode::OK);
        let actions: Vec<&str> = audit.body["items"].as_array().unwrap().iter()
            .map(|r| r["action"].as_str().unwrap()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "user.password").count(), 1, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| **a == "user.create").count(), 1, "{actions:?}");
    }

    async fn tokens_work_until_revoked_and_are_stored_only_as_hashes(app: TestApp) {
        let user = app.post(&app.admin_token, "/api/v1/users", json!({"username":"cm1","role":"casemanager"})).await
            .expect(StatusCode::CREATED);
        let id = user.body["id"].as_i64().unwrap();
        let issued = app.post_with_key(&app.admin_token, &format!("/api/v1/users/{id}/tokens"), "t-1", json!({"name":"veilig-thuis-systeem"}))
            .await.expect(StatusCode::CREATED);
        let secret = issued.body["secret"].as_str().unwrap().to_owned();
        let token_id = issued.body["id"].as_i64().unwrap();
        assert!(secret.starts_with("zicht_") && secret.len() > 40);

        let me = app.get(&secret, "/api/v1/me").await.expect(StatusCode::OK);
        assert_eq!(me.body["username"], "cm1");
        assert_eq!(me.body["role"], "casemanager");

        // A retry of the same issue shows the token again, but never its secret.
        let replay = app.post_with_key(&app.admin_token, &format!("/api/v1/users/{id}/tokens"), "t-1", json!({"name":"veilig-thuis-systeem"}))
            .await.expect(StatusCode::CREATED);
        assert_eq!(replay.body["id"], token_id);
        assert!(replay.body.get("secret").is_none());
        assert_eq!(app.count("api_tokens").await, 2);

        let listed = app.get(&app.admin_token, &format!("/api/v1/users/{id}/tokens")).await.expect(StatusCode::OK);
        assert!(!listed.text.contains(&secret));
        let db_has_secret = app.execute(&format!("SELECT 1 FROM api_tokens WHERE token_hash = '{secret}'")).await;
        assert!(matches!(db_has_secret, Ok(0)), "the secret itself is not stored");
        let idem_has_secret = app.execute(&format!("SELECT 1 FROM idempotency_keys WHERE body LIKE '%{secret}%'")).await;
        assert!(matches!(idem_has_secret, Ok(0)), "nor kept for idempotent replays");

        let revoked = app.request(Method::DELETE, &format!("/api/v1/tokens/{token_id}"), Some(&app.admin_token), None).await
            .expect(StatusCode::OK);
        assert!(revoked.body["revoked_at"].is_string());
        app.get(&secret, "/api/v1/me").await.expect_problem(StatusCode::UNAUTHORIZED, "");
        app.request(Method::DELETE, "/api/v1/tokens/999", Some(&app.admin_token), None).await
            .expect_problem(StatusCode::NOT_FOUND, "");
    }

    async fn users_are_checked_before_they_are_created(app: TestApp) {
        let t = app.admin_token.clone();
        app.post(&t, "/api/v1/users", json!({"username":"Jan de Vries","role":"casemanager"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "username");
        app.post(&t, "/api/v1/users", json!({"username":"aov","role":"gemeente_monitor"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "gemeente");
        app.post(&t, "/api/v1/users", json!({"username":"sp","role":"specialist"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "region");
        app.post(&t, "/api/v1/users", json!({"username":"cm1","role":"casemanager"})).await.expect(StatusCode::CREATED);
        app.post(&t, "/api/v1/users", json!({"username":"cm1","role":"regisseur"})).await
            .expect_problem(StatusCode::CONFLICT, "");
        let users = app.get(&t, "/api/v1/users?limit=1").await.expect(StatusCode::OK);
        assert_eq!(users.body["items"][0]["username"], "admin");
        let cursor = users.body["next_cursor"].as_str().unwrap();
        let next = app.get(&t, &format!("/api/v1/users?limit=1&cursor={cursor}")).await.expect(StatusCode::OK);
        assert_eq!(next.body["items"][0]["username"], "cm1");
        assert!(next.body.get("next_cursor").is_none());
    }
}

#[tokio::test]
async fn the_admin_token_is_given_on_the_first_start_only() {
    let app = TestApp::spawn_sqlite().await;
    app.get(&app.admin_token, "/api/v1/me")
        .await
        .expect(StatusCode::OK);
    let mut settings = app.settings.clone();
    settings.listen = "127.0.0.1:0".parse().unwrap();
    let again = App::build(settings, Arc::new(ManualClock::new(start_time())))
        .await
        .unwrap();
    assert!(again.admin_token.is_none());
    assert_eq!(app.count("users").await, 1);
}
