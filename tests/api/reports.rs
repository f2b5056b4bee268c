//! Signal reporters report by household reference and learn nothing back.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, both, household_json};

both! {
    async fn a_report_by_reference_reaches_the_household_and_reveals_nothing(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let reporter = app.user("woonbedrijf", "signal_reporter").await;
        let mut h = household_json("H-0001");
        h["reference"] = json!("VT-2025-001");
        app.post(&cm, "/api/v1/households", h).await.expect(StatusCode::CREATED);

        let report = |reference: &str| json!({
            "reference": reference, "at": "2025-01-06T09:00:00+01:00",
            "kind": "zorgsignaal", "source": "woningcorporatie", "acute": false
        });
        let known = app.post(&reporter, "/api/v1/reports", report("VT-2025-001")).await.expect(StatusCode::ACCEPTED);
        let unknown = app.post(&reporter, "/api/v1/reports", report("VT-1999-999")).await.expect(StatusCode::ACCEPTED);
        for reply in [&known, &unknown] {
            let keys: Vec<&String> = reply.body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["receipt", "received_at"]);
            assert!(reply.body["receipt"].as_str().unwrap().starts_with("R-"));
        }
        assert_ne!(known.body["receipt"], unknown.body["receipt"]);

        // Matched after the answer, by the scheduler.
        assert_eq!(app.count("events").await, 0);
        app.tick().await;
        let items = app.timeline(&cm, "H-0001").await;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["source"], "woningcorporatie");
        assert_eq!(items[0]["recorded_by"], "woonbedrijf");
        // The unmatched report is kept, not lost.
        assert_eq!(app.count("signal_reports").await, 2);

        app.get(&reporter, "/api/v1/households/H-0001").await.expect(StatusCode::NOT_FOUND);
        app.post(&cm, "/api/v1/reports", report("VT-2025-001")).await.expect_problem(StatusCode::FORBIDDEN, "");
        app.post(&reporter, "/api/v1/reports", json!({"reference": "VT-2025-001"})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "at");
    }
}
