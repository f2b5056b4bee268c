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

/// The audit rows of `actor` with `action`, as `(household, outcome)`.
async fn rows_of(app: &TestApp, actor: &str, action: &str) -> Vec<(Option<String>, String)> {
    let all = app
        .get(&app.admin_token, "/api/v1/audit?limit=500")
        .await
        .expect(StatusCode::OK);
    all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == actor && r["action"] == action)
        .map(|r| {
            (
                r["household"].as_str().map(str::to_owned),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

both! {
    async fn inbox_berichten_forms_sign_in_and_admin_reads_are_audited(app: TestApp) {
        use crate::web::{PASSWORD, browser, sign_in, with_password};
        let cm = with_password(&app, "cm1", "casemanager").await;
        let rg = with_password(&app, "rg1", "regisseur").await;
        app.user("cm2", "casemanager").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        // A change of who works on it tells its people, in their inbox, by the household's id.
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments",
            json!({"regisseur": "rg1", "casemanagers": ["cm1", "cm2"]})).await.expect(StatusCode::OK);

        app.get(&rg, "/api/v1/inbox").await.expect(StatusCode::OK);
        assert_eq!(rows_of(&app, "rg1", "inbox.read").await, [
            (Some("H-0001".into()), "ok".into()), (None, "ok".into())
        ]);
        // The stream: once when opened, and each household it then pushes.
        let mut stream = reqwest::Client::new().get(app.url("/api/v1/inbox/stream")).bearer_auth(&cm)
            .send().await.unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        assert_eq!(rows_of(&app, "cm1", "inbox.stream").await, [(None, "ok".into())]);
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments",
            json!({"regisseur": "rg1", "casemanagers": ["cm1"]})).await.expect(StatusCode::OK);
        let pushed = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            let mut text = String::new();
            while !text.contains("event: notification") {
                text.push_str(&String::from_utf8_lossy(&stream.chunk().await.unwrap().unwrap()));
            }
        }).await;
        assert!(pushed.is_ok(), "the stream pushed the notification");
        assert!(rows_of(&app, "cm1", "inbox.read").await.contains(&(Some("H-0001".into()), "ok".into())));
        drop(stream);

        // The pages: a failed and a good sign-in (never what was typed), Berichten, a form.
        sign_in(&app, "cm1", "verkeerd-wachtwoord-1").await.unwrap_err();
        let session = sign_in(&app, "cm1", PASSWORD).await.unwrap();
        assert_eq!(rows_of(&app, "cm1", "session.sign_in").await, [(None, "ok".into()), (None, "denied".into())]);
        let before = rows_of(&app, "cm1", "inbox.read").await.len();
        let page = browser().get(app.url("/berichten")).header("cookie", &session).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(rows_of(&app, "cm1", "inbox.read").await.len(), before + 2);
        let form = browser().get(app.url("/huishoudens/H-0001/score")).header("cookie", &session).send().await.unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        assert!(rows_of(&app, "cm1", "household.read").await.contains(&(Some("H-0001".into()), "ok".into())));

        // Admin reads.
        app.get(&app.admin_token, "/api/v1/users").await.expect(StatusCode::OK);
        app.get(&app.admin_token, "/api/v1/users/2/tokens").await.expect(StatusCode::OK);
        app.get(&app.admin_token, "/api/v1/webhooks").await.expect(StatusCode::OK);
        app.get(&app.admin_token, "/api/v1/webhooks/deliveries").await.expect(StatusCode::OK);
        assert_eq!(rows_of(&app, "admin", "user.list").await.len(), 1);
        assert_eq!(rows_of(&app, "admin", "token.list").await.len(), 1);
        assert_eq!(rows_of(&app, "admin", "webhook.read").await.len(), 2);
        app.get(&cm, "/api/v1/webhooks/deliveries").await.expect_problem(StatusCode::FORBIDDEN, "");
        assert_eq!(rows_of(&app, "cm1", "webhook.read").await, [(None, "denied".into())]);

        let log = app.get(&app.admin_token, "/api/v1/audit?limit=500").await.expect(StatusCode::OK).text;
        assert!(!log.contains(PASSWORD) && !log.contains("verkeerd-wachtwoord"));
    }

    async fn a_decision_is_audited_with_its_purpose_and_never_its_reason(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let rg = app.user("rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.score(&cm, "H-0001", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        let id = app.scalar("SELECT id FROM alerts WHERE rule = 'uiteenlopende-scores'").await;
        app.post(&rg, &format!("/api/v1/alerts/{id}/acknowledge"),
            json!({"decision": "bijschalen", "reason": "Slachtoffer apart gesproken"})).await.expect(StatusCode::OK);
        let rows = audit_rows(&app, "H-0001").await;
        let decided = rows.iter().find(|r| r["action"] == "alert.acknowledge").unwrap();
        assert_eq!(decided["purpose"], format!("alert:{id}:bijschalen"));
        let text = serde_json::to_string(&rows).unwrap();
        assert!(!text.contains("apart gesproken"));
    }
}

both! {
    async fn the_regisseur_sees_who_accessed_their_household(app: TestApp) {
        use crate::web::{PASSWORD, browser, sign_in, with_password};
        let cm = with_password(&app, "cm1", "casemanager").await;
        with_password(&app, "rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.get(&cm, "/api/v1/households/H-0001/timeline").await.expect(StatusCode::OK);
        let open = |session: String, path: &'static str| {
            let app = &app;
            async move {
                let reply = browser().get(app.url(path)).header("cookie", session).send().await.unwrap();
                (reply.status(), reply.text().await.unwrap())
            }
        };
        let regisseur = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let casemanager = sign_in(&app, "cm1", PASSWORD).await.unwrap();

        let (_, plaat) = open(regisseur.clone(), "/huishoudens/H-0001").await;
        assert!(plaat.contains("href=\"/huishoudens/H-0001/toegang\""));
        let (status, log) = open(regisseur.clone(), "/huishoudens/H-0001/toegang").await;
        assert_eq!(status, StatusCode::OK);
        assert!(log.contains("Wie heeft"));
        let row = log.split("<tr>").find(|r| r.contains("tijdlijn bekeken")).expect("cm1's read is listed");
        assert!(row.contains("cm1") && row.contains("toegestaan"), "{row}");
        // Reading it is itself in the log, and shows there next time.
        assert_eq!(rows_of(&app, "rg1", "household.access_log").await, [(Some("H-0001".into()), "ok".into())]);
        let (_, again) = open(regisseur, "/huishoudens/H-0001/toegang").await;
        assert!(again.contains("deze toegangslijst bekeken"));

        // Its casemanager reads the household, but not who else did; the refusal is audited.
        let (_, plaat) = open(casemanager.clone(), "/huishoudens/H-0001").await;
        assert!(!plaat.contains("/toegang"));
        let (status, _) = open(casemanager, "/huishoudens/H-0001/toegang").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(rows_of(&app, "cm1", "household.access_log").await, [(Some("H-0001".into()), "denied".into())]);
    }
}

both! {
    async fn the_head_is_logged_and_sent_to_audit_webhooks_once_a_day(app: TestApp) {
        use zicht::app::audit::publish_head;
        use zicht::clock::Clock;
        let logs = crate::helpers::captured_logs();
        app.post(&app.admin_token, "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/kluis", "role": "audit"})).await.expect(StatusCode::CREATED);
        app.post(&app.admin_token, "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/vt", "role": "veilig_thuis"})).await.expect(StatusCode::CREATED);
        app.post(&app.admin_token, "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/x", "role": "auditor"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "role");

        let head = publish_head(&app.state, app.clock.now()).await.unwrap().expect("published today");
        let mut conn = app.state.db.acquire().await.unwrap();
        assert_eq!(zicht::store::audit_head(&mut conn).await.unwrap(), head);
        assert!(head.seq > 0 && head.hash.len() == 64);
        // Once a day, however often the scheduler runs.
        assert_eq!(publish_head(&app.state, app.clock.now()).await.unwrap(), None);
        let payloads: Vec<String> = sqlx::query_scalar(
            "SELECT o.payload FROM outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id
             WHERE e.role = 'audit' ORDER BY o.id")
            .fetch_all(&mut *conn).await.unwrap();
        assert_eq!(payloads.len(), 1);
        let sent: serde_json::Value = serde_json::from_str(&payloads[0]).unwrap();
        assert_eq!(sent["type"], "audit.head");
        assert_eq!(sent["hash"], head.hash);
        assert_eq!(sent["row"], head.id);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%audit.head%'").await, 1,
            "only the audit endpoint gets the head");
        let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(logged.contains(&format!("hash={}", head.hash)), "the head is in the log");

        app.clock.advance(jiff::SignedDuration::from_hours(24));
        app.get(&app.admin_token, "/api/v1/users").await.expect(StatusCode::OK);
        let next = publish_head(&app.state, app.clock.now()).await.unwrap().expect("a new day");
        assert!(next.seq > head.seq);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%audit.head%'").await, 2);
    }
}

both! {
    async fn rows_from_before_the_chain_are_chained_once_and_later_unchained_rows_never(app: TestApp) {
        app.user("cm1", "casemanager").await;
        // Rows as the service wrote them before migration 0013: no place in the chain, and the
        // migration recorded them as the rows to chain.
        let columns = "at_ms, actor, action, household_id, outcome";
        for household in ["H-0001", "H-0002"] {
            app.execute(&format!(
                "INSERT INTO audit_log ({columns}) VALUES (1736150400000, 'cm1', 'household.read', '{household}', 'ok')"
            )).await.unwrap();
        }
        app.execute("UPDATE audit_chain SET legacy_max_id = (SELECT MAX(id) FROM audit_log)").await.unwrap();
        assert!(matches!(verify(&app).await, Err((_, BreakKind::Forged(_)))));
        // Nor may anyone but the chaining touch them: content stays as it was.
        assert!(app.execute("UPDATE audit_log SET actor = 'x' WHERE hash IS NULL").await.is_err());

        app.state.db.migrate().await.unwrap();
        assert_eq!(verify(&app).await, Ok(()));
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE hash IS NULL").await, 0);
        // Chained once: a row written without a hash afterwards is a forgery, and stays one.
        app.execute(&format!(
            "INSERT INTO audit_log ({columns}) VALUES (1736150400000, 'cm1', 'household.read', 'H-0003', 'ok')"
        )).await.unwrap();
        let forged = app.scalar("SELECT MAX(id) FROM audit_log").await;
        app.state.db.migrate().await.unwrap();
        assert!(matches!(verify(&app).await, Err((id, BreakKind::Forged(_))) if id == forged));
        assert!(app.execute(&format!("UPDATE audit_log SET seq = 999 WHERE id = {forged}")).await.is_err());
    }
}

both! {
    async fn a_list_is_a_read_of_every_household_it_shows(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", None, &["cm1"]).await;
        app.household("H-0002", None, &["cm1"]).await;
        app.household("H-0003", None, &[]).await;
        app.get(&cm, "/api/v1/households").await.expect(StatusCode::OK);
        let mut rows = rows_of(&app, "cm1", "household.list").await;
        rows.sort();
        assert_eq!(rows, [
            (None, "ok".into()), (Some("H-0001".into()), "ok".into()), (Some("H-0002".into()), "ok".into())
        ]);
        // An admin's list of every household is a read of each, which its regisseur will see.
        app.get(&app.admin_token, "/api/v1/households?limit=2").await.expect(StatusCode::OK);
        assert_eq!(rows_of(&app, "admin", "household.list").await.len(), 3, "the read and the two shown");
    }
}

both! {
    async fn a_break_the_glass_read_carries_its_purpose_and_shows_to_the_regisseur(app: TestApp) {
        use crate::web::{PASSWORD, browser, sign_in, with_password};
        with_password(&app, "rg1", "regisseur").await;
        let vt = app.user("vt-bzo", "veilig_thuis").await;
        app.household("H-0001", Some("rg1"), &[]).await;
        let reason = "Nieuwe melding politie, nacht";
        app.post(&vt, "/api/v1/households/H-0001/break-glass", json!({"reason": reason}))
            .await.expect(StatusCode::CREATED);
        let rows = audit_rows(&app, "H-0001").await;
        let glass = rows.iter().find(|r| r["action"] == "household.break_glass").unwrap();
        let id = app.scalar("SELECT MAX(id) FROM glass_access").await;
        assert_eq!(glass["purpose"], format!("glass:{id}"));
        assert!(!serde_json::to_string(&rows).unwrap().contains(reason));
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let page = browser().get(app.url("/huishoudens/H-0001/toegang")).header("cookie", session)
            .send().await.unwrap().text().await.unwrap();
        let row = page.split("<tr>").find(|r| r.contains("vt-bzo")).expect("the read is listed");
        assert!(row.contains("ingezien zonder toewijzing"), "{row}");
    }
}
