//! Every access to household data is audited; the audit log cannot be changed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, both};

async fn audit_rows(app: &TestApp, household: &str) -> Vec<Value> {
    let reply = app
        .get(
            &app.admin_token,
            &format!("/api/v1/audit?household={household}&limit=500"),
        )
        .await;
    reply.expect(StatusCode::OK).body["items"]
        .as_array()
        .unwrap()
        .clone()
}

both! {
    async fn reads_writes_and_refusals_are_audited_with_who_and_which_request(app: TestApp) {
        let cm1 = app.user("cm1", "casemanager").await;
        let cm2 = app.user("cm2", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        let written = app.score(&cm1, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await
            .expect(StatusCode::CREATED);
        app.get(&cm1, "/api/v1/households/H-0001/timeline").await.expect(StatusCode::OK);
        app.get(&cm1, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
        app.get(&cm2, "/api/v1/households/H-0001").await.expect(StatusCode::NOT_FOUND);

        let rows = audit_rows(&app, "H-0001").await;
        let summary: Vec<(String, String, String)> = rows.iter().rev()
            .map(|r| (r["actor"].as_str().unwrap().into(), r["action"].as_str().unwrap().into(), r["outcome"].as_str().unwrap().into()))
            .collect();
        let expected = [
            ("admin", "household.create", "ok"),
            ("admin", "assignment.set", "ok"),
            ("cm1", "event.create", "ok"),
            ("cm1", "timeline.read", "ok"),
            ("cm1", "household.read", "ok"),
            ("cm2", "household.read", "denied"),
        ];
        let expected: Vec<(String, String, String)> =
            expected.iter().map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into())).collect();
        assert_eq!(summary, expected);
        let write_row = rows.iter().find(|r| r["action"] == "event.create").unwrap();
        assert_eq!(write_row["request_id"], written.header("x-request-id"));
        assert!(!written.header("x-request-id").is_empty());
    }

    async fn the_audit_log_cannot_be_changed(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        app.get(&cm, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
        let before = app.count("audit_log").await;
        for method in [Method::PUT, Method::PATCH, Method::DELETE, Method::POST] {
            let reply = app.request(method.clone(), "/api/v1/audit", Some(&app.admin_token), Some(&json!({}))).await;
            assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        }
        // Not even with direct database access.
        assert!(app.execute("UPDATE audit_log SET actor = 'niemand'").await.is_err());
        assert!(app.execute("DELETE FROM audit_log").await.is_err());
        assert!(app.count("audit_log").await >= before);
        let rows = audit_rows(&app, "H-0001").await;
        assert!(rows.iter().all(|r| r["actor"] != "niemand"));
    }
}
