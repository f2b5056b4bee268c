//! The AVG's duties: everything about a household for a subject-access request, and closed
//! trajectories anonymised after their retention period with the audit chain intact.

use serde_json::Value;

use crate::crypt::{ACK_REASON, GLASS_REASON, TEXTS, write_texts};
use crate::helpers::{TestApp, both};
use zicht::app::privacy::{self, PrivacyError};
use zicht::clock::Clock;

async fn audit_purposes(app: &TestApp, action: &str) -> Vec<String> {
    let mut conn = app.state.db.acquire().await.unwrap();
    zicht::store::list_audit(&mut conn, None, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .map(|r| {
            format!(
                "{} {}",
                r.household.unwrap_or_default(),
                r.purpose.unwrap_or_default()
            )
        })
        .collect()
}

async fn chain_verifies(app: &TestApp) {
    let mut conn = app.state.db.acquire().await.unwrap();
    let verdict = zicht::store::verify_audit(&mut conn, None, |_, _| {})
        .await
        .unwrap();
    assert!(
        verdict.is_ok(),
        "the audit chain is broken: {:?}",
        verdict.err()
    );
}

both! {
    async fn a_subject_access_export_holds_everything_about_the_household(app: TestApp) {
        write_texts(&app).await;
        let now = app.clock.now();
        let db = &app.state.db;
        let doc = privacy::subject_access(db, "H-0001", "AVG-2025-17", now).await.unwrap();
        let text = serde_json::to_string(&doc).unwrap();
        for t in TEXTS {
            assert!(text.contains(t), "{t} is missing from the export");
        }
        assert_eq!(doc["household"]["id"], "H-0001");
        assert_eq!(doc["events"].as_array().unwrap().len(), 4);
        let decided = doc["alerts"].as_array().unwrap().iter()
            .flat_map(|a| a["transitions"].as_array().unwrap().clone())
            .any(|t| t["reason"] == ACK_REASON && t["actor"] == "rg1");
        assert!(decided, "the decision with its reason is exported");
        let people: Vec<&str> = doc["assignments"].as_array().unwrap().iter()
            .map(|a| a["username"].as_str().unwrap()).collect();
        assert!(people.contains(&"rg1") && people.contains(&"cm1"), "{people:?}");
        assert_eq!(doc["break_glass"][0]["reason"], GLASS_REASON);
        let reads = doc["access_log"].as_array().unwrap();
        assert!(reads.iter().any(|r| r["action"] == "household.break_glass" && r["actor"] == "vt-bzo"));
        // Nothing of H-0002 in it.
        assert!(!text.contains("H-0002"));
        assert_eq!(audit_purposes(&app, "household.subject_access").await, ["H-0001 subject_access:AVG-2025-17"]);
        // A purpose is a case number, never a name; an unknown household is said to be one.
        assert!(matches!(privacy::subject_access(db, "H-0001", "verzoek van Jan de Vries", now).await,
            Err(PrivacyError::Purpose)));
        assert!(matches!(privacy::subject_access(db, "H-9999", "AVG-1", now).await,
            Err(PrivacyError::NotFound(_))));
        chain_verifies(&app).await;
    }

    async fn a_closed_trajectory_is_anonymised_after_its_retention_period(app: TestApp) {
        write_texts(&app).await;
        let db = &app.state.db;
        let events_of = |h: &str| format!("SELECT COUNT(*) FROM events WHERE household_id = '{h}'");
        // H-0001 closed on 2025-09-01; H-0002 is open. A day short of five years: nothing.
        app.at("2030-08-31T09:00:00+02:00");
        let found = privacy::retention(db, |_| 5, true, app.clock.now()).await.unwrap();
        assert!(found.expired.is_empty());
        // A day past: H-0001, listed without a change on a dry run.
        app.at("2030-09-02T09:00:00+02:00");
        let found = privacy::retention(db, |_| 5, true, app.clock.now()).await.unwrap();
        let listed: Vec<(String, i64)> = found.expired.iter()
            .map(|e| (e.household.to_string(), e.events)).collect();
        assert_eq!(listed, [("H-0001".to_owned(), 4)]);
        assert_eq!(app.scalar(&events_of("H-0001")).await, 4);
        // A region that keeps files 15 years: nothing yet, but saved responses (which may echo
        // free text) older than 30 days go.
        let saved = "SELECT COUNT(*) FROM idempotency_keys";
        assert_eq!(app.scalar(saved).await, 1);
        let kept = privacy::retention(db, |_| 15, false, app.clock.now()).await.unwrap();
        assert!(kept.expired.is_empty());
        assert_eq!((kept.saved_responses, app.scalar(saved).await), (1, 0));
        assert_eq!(app.scalar(&events_of("H-0001")).await, 4);

        let done = privacy::retention(db, |_| 5, false, app.clock.now()).await.unwrap();
        assert_eq!(done.expired.len(), 1);
        assert_eq!(app.scalar(&events_of("H-0001")).await, 0);
        assert_eq!(app.scalar(&events_of("H-0002")).await, 1, "an open trajectory is kept");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM glass_access").await, 0);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM assignments WHERE household_id = 'H-0001'").await, 0);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM alert_transitions WHERE reason IS NOT NULL").await, 0);
        // Alerts and audit rows are append-only: they stay, under the household id alone, and the
        // chain still verifies.
        assert!(app.scalar("SELECT COUNT(*) FROM alerts WHERE household_id = 'H-0001'").await > 0);
        assert_eq!(audit_purposes(&app, "household.retention").await, ["H-0001 retention:5y"]);
        chain_verifies(&app).await;
        let doc: Value = privacy::subject_access(db, "H-0001", "AVG-2030-1", app.clock.now()).await.unwrap();
        let text = serde_json::to_string(&doc).unwrap();
        assert!(!TEXTS.iter().any(|t| text.contains(t)), "{text}");
        assert_eq!(doc["events"].as_array().unwrap().len(), 0);
        // Done once: the next run finds nothing.
        assert!(privacy::retention(db, |_| 5, false, app.clock.now()).await.unwrap().expired.is_empty());
    }
}
