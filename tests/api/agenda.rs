//! The casusoverleg agenda: the regisseur's households to discuss this week, with the facts to
//! bring; nobody else's, and every household shown audited.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, both};
use crate::web::{PASSWORD, open, sign_in, with_password};

/// The households on an agenda page, in the order shown.
fn households_on(html: &str) -> Vec<String> {
    html.split("<section class=\"household\" aria-labelledby=\"agenda-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

/// The section of one household.
fn section<'a>(html: &'a str, household: &str) -> &'a str {
    html.split(&format!("aria-labelledby=\"agenda-{household}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("{household} is not on the agenda: {html}"))
        .split("</section>")
        .next()
        .unwrap()
}

both! {
    async fn the_agenda_lists_the_regisseurs_households_with_news_and_the_facts_to_bring(app: TestApp) {
        let rg = with_password(&app, "rg1", "regisseur").await;
        app.user("rg2", "regisseur").await;
        with_password(&app, "cm1", "casemanager").await;
        let cm = app.user("cm-api", "casemanager").await;
        for h in ["H-0001", "H-0002", "H-0003", "H-0004", "H-0005"] {
            app.household(h, Some("rg1"), &["cm1", "cm-api"]).await;
        }
        app.household("H-0009", Some("rg2"), &["cm-api"]).await;
        // Monday three weeks into the trajectories; the agenda looks back a week by default.
        app.at("2025-01-27T12:00:00+01:00");
        let signal = |household: &'static str, at: &'static str, acute: bool| {
            let (app, cm) = (&app, cm.clone());
            async move {
                app.post(&cm, &format!("/api/v1/households/{household}/signals"),
                    json!({"at": at, "kind": "melding", "source": "politie", "acute": acute}))
                    .await.expect(StatusCode::CREATED);
            }
        };
        // H-0001: the victim far below the professional (an open warning).
        app.score(&cm, "H-0001", "professional", 8, "2025-01-22T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-22T10:30:00+01:00").await.expect(StatusCode::CREATED);
        // H-0002: a safe enough score, nothing to discuss.
        app.score(&cm, "H-0002", "slachtoffer", 7, "2025-01-22T10:00:00+01:00").await.expect(StatusCode::CREATED);
        // H-0003: the regisseur put it on step 2 of the ladder this week.
        app.post(&rg, "/api/v1/households/H-0003/events",
            json!({"type": "escalation", "step": 2, "reason": "Geweld stopt niet in het vrijwillig kader.", "at": "2025-01-24T09:00:00+01:00"}))
            .await.expect(StatusCode::CREATED);
        // H-0004: an acute melding this week.
        signal("H-0004", "2025-01-25T22:10:00+01:00", true).await;
        // H-0005: a melding two weeks ago, its hermelding decided on: last week's news.
        signal("H-0005", "2025-01-14T10:00:00+01:00", false).await;
        let hermelding = app.scalar("SELECT id FROM alerts WHERE household_id = 'H-0005' AND rule = 'hermelding'").await;
        app.post(&rg, &format!("/api/v1/alerts/{hermelding}/acknowledge"),
            json!({"decision": "geen_actie", "reason": "Aan het plan gekoppeld."})).await.expect(StatusCode::OK);
        // H-0009: another regisseur's household with an open warning.
        app.score(&cm, "H-0009", "professional", 8, "2025-01-22T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0009", "slachtoffer", 2, "2025-01-22T10:00:00+01:00").await.expect(StatusCode::CREATED);

        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let (status, html) = open(&app, &session, "/casusoverleg").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<a href=\"/casusoverleg\">Casusoverleg</a>"), "in the regisseur's navigation");
        let shown = households_on(&html);
        let mut sorted = shown.clone();
        sorted.sort();
        assert_eq!(sorted, ["H-0001", "H-0003", "H-0004"], "{html}");
        assert_eq!(shown.last().unwrap(), "H-0003", "open alerts come before a step of the ladder alone");
        assert!(html.contains("<strong>3</strong> huishoudens om te bespreken, nieuws sinds 20-01-2025."), "{html}");

        // The facts to bring: latest score per perspective with its date, phase, step, the open
        // alerts with their age, the steps and the meldingen.
        let h1 = section(&html, "H-0001");
        assert!(h1.contains("Op de agenda:</strong> 1 open waarschuwing."), "{h1}");
        assert!(h1.contains("Andere professional <strong>8</strong> <span class=\"meta nowrap\">(22-01-2025)</span>"), "{h1}");
        assert!(h1.contains("Slachtoffer <strong>2</strong>"), "{h1}");
        assert!(h1.contains("1 · acute onveiligheid"), "{h1}");
        assert!(h1.contains("Trede 1 · gezamenlijke basis"), "{h1}");
        assert!(h1.contains("Uiteenlopende scores"), "{h1}");
        assert!(h1.contains("· open sinds"), "{h1}");
        let h3 = section(&html, "H-0003");
        assert!(h3.contains("Op de agenda:</strong> een nieuwe trede op de escalatieladder."), "{h3}");
        assert!(h3.contains("24-01-2025</span>: Trede 2 · bijschalen en procesregie"), "{h3}");
        assert!(h3.contains("(was trede 1)"), "{h3}");
        assert!(h3.contains("nog geen"), "no scores yet: {h3}");
        assert!(!h3.contains("Geweld stopt niet"), "no free text on the agenda: {h3}");
        let h4 = section(&html, "H-0004");
        assert!(h4.contains("1 open waarschuwing en 1 nieuwe melding"), "{h4}");
        assert!(h4.contains("25-01-2025 22:10</span> · Politie · <strong class=\"critical\">acuut onveilig</strong>"), "{h4}");

        // From an earlier date, last week's melding is news too.
        let (_, earlier) = open(&app, &session, "/casusoverleg?sinds=2025-01-13").await;
        let mut shown = households_on(&earlier);
        shown.sort();
        assert_eq!(shown, ["H-0001", "H-0003", "H-0004", "H-0005"], "{earlier}");
        assert!(earlier.contains("value=\"2025-01-13\""), "the date chosen stays in the form");
        // A date in the future, or no date at all, is said in Dutch; the week's agenda is shown.
        for bad in ["2025-02-01", "2023-01-01", "gisteren"] {
            let (status, page) = open(&app, &session, &format!("/casusoverleg?sinds={bad}")).await;
            assert_eq!(status, StatusCode::OK, "{bad}");
            assert!(page.contains("id=\"sinds-fout\""), "{bad}: {page}");
            assert_eq!(households_on(&page).len(), 3, "{bad}");
        }

        // The print view: the same households, without the form, with who and when.
        let (status, print) = open(&app, &session, "/casusoverleg?sinds=2025-01-20&afdrukken=1").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(households_on(&print).len(), 3);
        assert!(!print.contains("<form class=\"filters\""), "{print}");
        assert!(print.contains("Regisseur <strong>rg1</strong> · van 20-01-2025 tot en met 27-01-2025"), "{print}");
        assert!(!print.contains("href=\"/huishoudens/"), "no links on paper");

        // Every household shown is an audited read (six agendas showed the three, one H-0005);
        // the others were not shown.
        for (household, rows) in [("H-0001", 6), ("H-0003", 6), ("H-0004", 6), ("H-0005", 1), ("H-0002", 0), ("H-0009", 0)] {
            let n = app.scalar(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE actor = 'rg1' AND action = 'agenda.read' AND household_id = '{household}'"
            )).await;
            assert_eq!(n, rows, "{household}");
        }

        // Only a regisseur has an agenda.
        let casemanager = sign_in(&app, "cm1", PASSWORD).await.unwrap();
        let (status, page) = open(&app, &casemanager, "/casusoverleg").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(!page.contains("H-000"), "{page}");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'cm1' AND action = 'agenda.read' AND outcome = 'denied'").await, 1);
    }
}
