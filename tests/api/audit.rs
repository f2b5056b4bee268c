//! Every access to household data is audited; the audit log cannot be changed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use zicht::store::{Backend, BreakKind};

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

/// Verifies the chain as `zicht audit verify` does: `Ok(())`, or the first broken row's id and
/// what is wrong with it.
async fn verify(app: &TestApp) -> Result<(), (i64, BreakKind)> {
    let mut conn = app.state.db.acquire().await.unwrap();
    match zicht::store::verify_audit(&mut conn, None, |_, _| {})
        .await
        .unwrap()
    {
        Ok(_) => Ok(()),
        Err(broken) => Err((broken.id, broken.kind)),
    }
}

/// What someone with database access does first: drop the triggers that keep the log append-only.
async fn drop_audit_triggers(app: &TestApp) {
    match app.state.db.backend() {
        Backend::Sqlite => {
            app.execute_script(
                "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
            )
            .await
        }
        Backend::Postgres => {
            app.execute_script("DROP TRIGGER audit_log_no_update ON audit_log;")
                .await
        }
    }
}

both! {
    async fn verify_names_the_first_changed_deleted_or_forged_row(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        for _ in 0..3 {
            app.get(&cm, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
        }
        assert_eq!(verify(&app).await, Ok(()));
        let rows = app.count("audit_log").await;
        let last = app.scalar("SELECT MAX(id) FROM audit_log").await;
        let mid = app.scalar("SELECT MIN(id) FROM audit_log WHERE action = 'household.read'").await;
        assert!(rows >= 6 && mid < last);
        drop_audit_triggers(&app).await;

        // A changed actor: that row, and after it is put back the chain holds again.
        app.execute(&format!("UPDATE audit_log SET actor = 'niemand' WHERE id = {mid}")).await.unwrap();
        assert_eq!(verify(&app).await, Err((mid, BreakKind::Changed)));
        app.execute(&format!("UPDATE audit_log SET actor = 'cm1' WHERE id = {mid}")).await.unwrap();
        assert_eq!(verify(&app).await, Ok(()));

        // A forged row without a place in the chain, and one that links to the last row but that
        // the chain never wrote (past its recorded head).
        let columns = "at_ms, actor, action, household_id, outcome";
        let values = "0, 'cm1', 'household.read', 'H-0002', 'ok'";
        app.execute(&format!("INSERT INTO audit_log ({columns}) VALUES ({values})")).await.unwrap();
        let forged = app.scalar("SELECT MAX(id) FROM audit_log").await;
        assert!(matches!(verify(&app).await, Err((id, BreakKind::Forged(_))) if id == forged));
        app.execute(&format!("DELETE FROM audit_log WHERE id = {forged}")).await.unwrap();
        assert_eq!(verify(&app).await, Ok(()));
        app.execute(&format!(
            "INSERT INTO audit_log ({columns}, seq, prev_hash, hash)
             SELECT {values}, seq + 1, hash, hash FROM audit_chain"
        )).await.unwrap();
        let forged = app.scalar("SELECT MAX(id) FROM audit_log").await;
        assert!(matches!(verify(&app).await, Err((id, BreakKind::Forged(_))) if id == forged));
        app.execute(&format!("DELETE FROM audit_log WHERE id = {forged}")).await.unwrap();

        // A deleted row: the row after it says how many are missing.
        let next = app.scalar(&format!("SELECT MIN(id) FROM audit_log WHERE id > {mid}")).await;
        app.execute(&format!("DELETE FROM audit_log WHERE id = {mid}")).await.unwrap();
        let expected = app.scalar(&format!("SELECT seq - 1 FROM audit_log WHERE id = {next}")).await;
        assert_eq!(
            verify(&app).await,
            Err((next, BreakKind::Deleted { expected, found: expected + 1 }))
        );

        // The last row deleted: the head names it.
        app.execute(&format!("DELETE FROM audit_log WHERE id >= {next}")).await.unwrap();
        assert!(matches!(verify(&app).await, Err((id, BreakKind::DeletedAtEnd { .. })) if id == last));
    }

    async fn concurrent_writers_keep_one_chain(app: TestApp) {
        use zicht::store::{AuditEntry, AuditOutcome, Db, append_audit};
        // Two instances on one database: two pools, each with several writers, some appending
        // inside a write transaction and some on their own.
        let url = app.settings.database_url();
        let mut tasks = Vec::new();
        for instance in 0..2 {
            let db = Db::connect(&url, 4).await.unwrap();
            for writer in 0..4 {
                let db = db.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..10 {
                        let actor = format!("w{instance}-{writer}-{i}");
                        let entry = AuditEntry {
                            at: zicht::domain::Instant::from_millis(1_700_000_000_000).unwrap(),
                            actor_id: None,
                            actor: &actor,
                            action: "household.read",
                            household: Some("H-0001"),
                            request_id: None,
                            outcome: AuditOutcome::Ok,
                            purpose: None,
                        };
                        if (writer + i) % 2 == 0 {
                            let mut tx = db.begin_write().await.unwrap();
                            append_audit(&mut tx, &entry).await.unwrap();
                            tx.commit().await.unwrap();
                        } else {
                            append_audit(&mut db.acquire().await.unwrap(), &entry).await.unwrap();
                        }
                    }
                }));
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE actor LIKE 'w%'").await, 80);
        assert_eq!(verify(&app).await, Ok(()));
        assert_eq!(app.scalar("SELECT MAX(seq) FROM audit_log").await, app.count("audit_log").await);
    }
}
