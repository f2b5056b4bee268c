//! The findings of issue 11, each reproduced: who is named which household, who gets in, how
//! often, and what a refusal gives away.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, both};
use crate::web::{PASSWORD, browser, sign_in, with_password};

/// The households an inbox names.
async fn named(app: &TestApp, token: &str) -> Vec<String> {
    let reply = app
        .get(token, "/api/v1/inbox?limit=500")
        .await
        .expect(StatusCode::OK);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["household"].as_str().unwrap().to_owned())
        .collect()
}

async fn page(app: &TestApp, session: &str, path: &str) -> String {
    let reply = browser()
        .get(app.url(path))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "{path}");
    reply.text().await.unwrap()
}

both! {
    // Findings 3 and 4: a gemeente monitor's and a specialist's inbox named households.
    async fn monitors_and_specialists_are_named_no_household(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let rg = app.user("rg1", "regisseur").await;
        app.user("rg2", "regisseur").await;
        with_password(&app, "aov-eindhoven", "gemeente_monitor").await;
        with_password(&app, "sp-bzo", "specialist").await;
        let aov = app.user("aov-token", "gemeente_monitor").await;
        let sp = app.user("sp-token", "specialist").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        for role in ["gemeente_monitor", "specialist_pool", "regisseur"] {
            app.post(&app.admin_token, "/api/v1/webhooks",
                json!({"url": format!("http://127.0.0.1:9/{role}"), "role": role, "region": "brabant-zuidoost"}))
                .await.expect(StatusCode::CREATED);
        }
        app.score(&cm, "H-0001", "slachtoffer", 3, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        // Six weeks without directe veiligheid: the rule notifies the regisseur and the specialist
        // pool; closing while unsafe (voortijdig-loslaten) the regisseur and the gemeente monitor.
        app.at("2025-02-17T10:00:00+01:00");
        app.tick().await;
        app.at("2025-02-17T11:00:00+01:00");
        app.post(&rg, "/api/v1/households/H-0001/events", json!({"type":"closure","at":"2025-02-17T11:00:00+01:00"}))
            .await.expect(StatusCode::CREATED);
        let rg_named = named(&app, &rg).await;
        assert!(!rg_named.is_empty() && rg_named.iter().all(|h| h == "H-0001"), "{rg_named:?}");
        assert!(named(&app, &aov).await.is_empty());
        assert!(named(&app, &sp).await.is_empty());
        // Their webhooks hear of the alert without the household, its alert id or a link.
        let hooks = |role: &str, like: &str| format!(
            "SELECT COUNT(*) FROM outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id
             WHERE e.role = '{role}' AND o.payload LIKE '{like}'");
        assert!(app.scalar(&hooks("gemeente_monitor", "%voortijdig-loslaten%")).await >= 1);
        assert!(app.scalar(&hooks("specialist_pool", "%geen-directe-veiligheid%")).await >= 1);
        for role in ["gemeente_monitor", "specialist_pool"] {
            for leak in ["%H-0001%", "%alert_id%", "%/api/v1/alerts%"] {
                assert_eq!(app.scalar(&hooks(role, leak)).await, 0, "{role} {leak}");
            }
        }
        assert!(app.scalar(&hooks("regisseur", "%H-0001%")).await >= 1);

        // Rows written before this fix (or by any other path) name nothing on reading either.
        app.execute(
            "INSERT INTO notifications (user_id, alert_id, household_id, rule, severity, why, others, created_at_ms)
             SELECT u.id, a.id, a.household_id, a.rule, a.severity, 'first', 0, 1736154000000
             FROM users u, alerts a WHERE u.role IN ('gemeente_monitor', 'specialist')",
        ).await.unwrap();
        for token in [&aov, &sp] {
            assert!(named(&app, token).await.is_empty());
            let unread = app.get(token, "/api/v1/inbox/unread").await.expect(StatusCode::OK);
            assert_eq!(unread.body["unread"], 0);
        }
        let old = app.scalar("SELECT MIN(n.id) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = 'aov-token'").await;
        app.post(&aov, &format!("/api/v1/inbox/{old}/read"), json!({})).await.expect_problem(StatusCode::NOT_FOUND, "");
        for name in ["aov-eindhoven", "sp-bzo"] {
            let session = sign_in(&app, name, PASSWORD).await.unwrap();
            let html = page(&app, &session, "/berichten").await;
            assert!(!html.contains("H-0001"), "{name}: {html}");
            assert!(html.contains("Geen berichten."), "{name}");
        }

        // Taken off the household, the regisseur is no longer named it either.
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"regisseur": "rg2", "casemanagers": ["cm1"]}))
            .await.expect(StatusCode::OK);
        assert!(named(&app, &rg).await.is_empty());
    }
}
