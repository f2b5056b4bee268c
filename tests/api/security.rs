//! The findings of issue 11, each reproduced: who is named which household, who gets in, how
//! often, and what a refusal gives away.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, both};
use crate::web::{PASSWORD, browser, sign_in, sign_in_at, with_password};

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
        app.score(&cm, "H-0001", "slachtoffer", 3, "2025-02-10T10:00:00+01:00").await.expect(StatusCode::CREATED);
        // Six weeks without directe veiligheid: the rule notifies the regisseur and the specialist
        // pool; closing while unsafe (voortijdig-loslaten) the regisseur and the gemeente monitor.
        app.at("2025-02-17T10:00:00+01:00");
        app.tick().await;
        app.at("2025-02-17T11:00:00+01:00");
        app.post(&rg, "/api/v1/households/H-0001/events", json!({"type":"closure","at":"2025-02-17T11:00:00+01:00","reason":"cliënten willen stoppen"}))
            .await.expect(StatusCode::CREATED);
        let rg_named = named(&app, &rg).await;
        assert!(!rg_named.is_empty() && rg_named.iter().all(|h| h == "H-0001"), "{rg_named:?}");
        assert!(named(&app, &aov).await.is_empty());
        assert!(named(&app, &sp).await.is_empty());
        // Their webhooks hear of the alert without the household, its alert id or a link.
        let hooks = |role: &str, like: &str| format!(
            "SELECT COUNT(*) FROM outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id
             WHERE e.role = '{role}' AND o.payload LIKE '{like}'");
        // The monitors' webhooks hear of no single alert at all, only a weekly digest of counts
        // (see notify::monitors_get_a_weekly_digest_of_safe_counts).
        assert_eq!(app.scalar(&hooks("gemeente_monitor", "%\"type\":\"alert\"%")).await, 0);
        app.at("2025-02-24T09:00:00+01:00");
        zicht::app::notify::digest::enqueue_weekly(&app.state, app.state.clock.now()).await.unwrap();
        assert_eq!(app.scalar(&hooks("gemeente_monitor", "%\"week\":\"2025-W08\"%\"wijk\":\"Woensel-Noord\",\"counts\":[\"0\",\"0\",\"< 5\"]%")).await, 1);
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

        // Taken off the household, the regisseur sees its alerts' news no more, only the notice
        // that they were taken off it.
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"regisseur": "rg2", "casemanagers": ["cm1"]}))
            .await.expect(StatusCode::OK);
        let left = app.get(&rg, "/api/v1/inbox?limit=500").await.expect(StatusCode::OK);
        let whys: Vec<&str> = left.body["items"].as_array().unwrap().iter().map(|n| n["why"].as_str().unwrap()).collect();
        assert!(!whys.is_empty() && whys.iter().all(|w| *w == "assignment"), "{whys:?}");
    }
}

async fn refused(app: &TestApp, name: &str, password: &str) -> (StatusCode, String) {
    let reply = sign_in(app, name, password).await.expect_err("refused");
    let status = reply.status();
    (status, reply.text().await.unwrap())
}

const WRONG: &str = "fout-wachtwoord-123";

both! {
    // Finding 1: unlimited password guessing, an oracle for which names exist, and failed
    // sign-ins that were not audited.
    async fn sign_in_slows_down_and_locks_after_six_failures_known_name_or_not(app: TestApp) {
        with_password(&app, "karin", "regisseur").await;
        with_password(&app, "petra", "casemanager").await;
        let minute = jiff::SignedDuration::from_mins(1);

        // Two failures are answered at once; the third makes the next attempt wait a second.
        for _ in 0..3 {
            assert_eq!(refused(&app, "karin", WRONG).await.0, StatusCode::UNAUTHORIZED);
        }
        let (status, html) = refused(&app, "karin", PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
        assert!(html.contains("Te veel mislukte pogingen"), "{html}");
        app.clock.advance(jiff::SignedDuration::from_secs(2));
        sign_in(&app, "karin", PASSWORD).await.expect("after the wait the right password works");

        // Six failures lock the name, known or not, with the same answers.
        let mut answers = Vec::new();
        for name in ["petra", "niemand"] {
            for _ in 0..6 {
                let (status, html) = refused(&app, name, WRONG).await;
                answers.push((name, status, html.contains("Gebruikersnaam of wachtwoord klopt niet.")));
                app.clock.advance(minute);
            }
            let locked = sign_in(&app, name, PASSWORD).await.expect_err("locked");
            assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS, "{name}");
            let retry: i64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=30 * 60).contains(&retry), "{retry}");
        }
        assert!(answers.iter().all(|(_, s, text)| *s == StatusCode::UNAUTHORIZED && *text), "{answers:?}");

        // The lock is in the database: a second instance (or a restart) keeps it.
        let second = zicht::http::App::build(app.settings.clone(), std::sync::Arc::new(app.clock.clone()))
            .await.unwrap();
        let base = format!("http://{}", second.addr);
        tokio::spawn(second.run(std::future::pending()));
        let again = sign_in_at(&base, "petra", PASSWORD).await.expect_err("still locked");
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);

        // An admin lifts it at once; otherwise it lifts by itself after 30 minutes.
        let petra = app.scalar("SELECT id FROM users WHERE username = 'petra'").await;
        let unlocked = app.post(&app.admin_token, &format!("/api/v1/users/{petra}/unlock"), json!({})).await.expect(StatusCode::OK);
        assert_eq!(unlocked.body["unlocked"], true);
        sign_in_at(&base, "petra", PASSWORD).await.expect("unlocked by the admin");
        let cm = app.user("cm-token", "casemanager").await;
        app.post(&cm, &format!("/api/v1/users/{petra}/unlock"), json!({})).await.expect_problem(StatusCode::FORBIDDEN, "");
        for _ in 0..6 {
            refused(&app, "karin", WRONG).await;
            app.clock.advance(minute);
        }
        assert_eq!(refused(&app, "karin", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(jiff::SignedDuration::from_mins(30));
        sign_in(&app, "karin", PASSWORD).await.expect("the lock lifted by itself");

        // Every attempt is audited with its outcome; the account only when it exists, and never
        // what was typed as a password.
        let audited = |sql: &'static str| app.scalar(sql);
        assert_eq!(audited("SELECT COUNT(*) FROM audit_log WHERE action = 'session.sign_in' AND outcome = 'ok'").await, 3);
        assert!(audited("SELECT COUNT(*) FROM audit_log WHERE action = 'session.sign_in' AND outcome = 'denied' AND actor = 'petra'").await >= 6);
        assert_eq!(audited("SELECT COUNT(*) FROM audit_log WHERE action = 'session.sign_in' AND outcome = 'denied' AND actor = '(unknown)'").await, 6);
        assert!(audited("SELECT COUNT(*) FROM audit_log WHERE action = 'session.sign_in_throttled'").await >= 4);
        assert_eq!(audited("SELECT COUNT(*) FROM audit_log WHERE actor LIKE '%fout%' OR actor LIKE '%niemand%'").await, 0);
        assert_eq!(audited("SELECT COUNT(*) FROM sign_in_failures WHERE key LIKE '%niemand%'").await, 0);
    }

    async fn one_address_trying_many_names_is_locked_too(app: TestApp) {
        with_password(&app, "karin", "regisseur").await;
        for i in 0..30 {
            let (status, _) = refused(&app, &format!("naam-{i}"), WRONG).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
            app.clock.advance(jiff::SignedDuration::from_mins(10));
        }
        // Password spraying from one address: locked for every name, also a right one.
        assert_eq!(refused(&app, "karin", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(jiff::SignedDuration::from_mins(31));
        sign_in(&app, "karin", PASSWORD).await.expect("the address lock lifted");
    }
}

fn report(reference: &str) -> serde_json::Value {
    json!({"reference": reference, "at": "2025-01-06T09:00:00+01:00", "kind": "zorgsignaal",
           "source": "woningcorporatie", "acute": false})
}

both! {
    // Finding 6: a known reference answered slower than an unknown one, and 100 reports on one
    // reference were all stored as signals.
    async fn reports_do_the_same_work_for_any_reference_and_are_rate_limited(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        let reporter = app.user("woonbedrijf", "signal_reporter").await;
        let other = app.user("huisarts", "signal_reporter").await;
        let mut h = crate::helpers::household_json("H-0001");
        h["reference"] = json!("VT-2025-001");
        app.post(&cm, "/api/v1/households", h).await.expect(StatusCode::CREATED);
        let events = app.count("events").await;
        let audit = app.count("audit_log").await;

        // The request stores the report and audits it, and nothing else, whatever the reference:
        // no household is looked at before the answer.
        for reference in ["VT-2025-001", "VT-1999-999"] {
            app.post(&reporter, "/api/v1/reports", report(reference)).await.expect(StatusCode::ACCEPTED);
        }
        assert_eq!(app.count("events").await, events);
        assert_eq!(app.count("audit_log").await, audit + 2);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'report.create' AND household_id IS NOT NULL").await, 0);
        app.tick().await;
        assert_eq!(app.count("events").await, events + 1, "the known reference got its signal");

        // Five reports a day per reference, from all reporters together, known or not.
        for reference in ["VT-2025-001", "VT-1999-999"] {
            let reporters = [&reporter, &other, &other, &other];
            for token in reporters {
                app.post(token, "/api/v1/reports", report(reference)).await.expect(StatusCode::ACCEPTED);
            }
            let limited = app.post(&other, "/api/v1/reports", report(reference)).await
                .expect_problem(StatusCode::TOO_MANY_REQUESTS, "");
            let retry: u64 = limited.header("retry-after").parse().unwrap();
            assert!((1..=24 * 3600).contains(&retry), "{retry}");
            assert_eq!(limited.body["type"], "urn:zicht:problem:rate-limited");
        }
        app.tick().await;
        assert_eq!(app.count("events").await, events + 5, "a flood stops at five");
        app.clock.advance(jiff::SignedDuration::from_hours(24));
        app.post(&other, "/api/v1/reports", report("VT-2025-001")).await.expect(StatusCode::ACCEPTED);

        // Thirty an hour per reporter, whatever the references.
        let flooder = app.user("buurman", "signal_reporter").await;
        for i in 0..30 {
            app.post(&flooder, "/api/v1/reports", report(&format!("VT-X-{i}"))).await.expect(StatusCode::ACCEPTED);
        }
        app.post(&flooder, "/api/v1/reports", report("VT-X-99")).await
            .expect_problem(StatusCode::TOO_MANY_REQUESTS, "");
    }

    async fn writes_are_rate_limited_per_token(app: TestApp) {
        let rg = app.user("rg1", "regisseur").await;
        let second = {
            let id = app.scalar("SELECT id FROM users WHERE username = 'rg1'").await;
            let t = app.post(&app.admin_token, &format!("/api/v1/users/{id}/tokens"), json!({"name": "tweede"})).await;
            t.body["secret"].as_str().unwrap().to_owned()
        };
        // 300 writes a minute per token (a cheap write: marking an unknown notification read).
        for _ in 0..300 {
            app.post(&rg, "/api/v1/inbox/1/read", json!({})).await.expect(StatusCode::NOT_FOUND);
        }
        let limited = app.post(&rg, "/api/v1/inbox/1/read", json!({})).await
            .expect_problem(StatusCode::TOO_MANY_REQUESTS, "");
        assert!(limited.header("retry-after").parse::<u64>().unwrap() >= 1);
        // Reads go on, and so does another token.
        app.get(&rg, "/api/v1/me").await.expect(StatusCode::OK);
        app.post(&second, "/api/v1/inbox/1/read", json!({})).await.expect(StatusCode::NOT_FOUND);
        app.clock.advance(jiff::SignedDuration::from_secs(1));
        app.post(&rg, "/api/v1/inbox/1/read", json!({})).await.expect(StatusCode::NOT_FOUND);
    }
}
both! {
    // Finding 5: registering someone else's household said "a household with this id exists",
    // and the same for its reference.
    async fn registering_a_known_household_says_only_that_it_is_known(app: TestApp) {
        let cm1 = app.user("cm1", "casemanager").await;
        let cm2 = app.user("cm2", "casemanager").await;
        let mut h = crate::helpers::household_json("D-0002");
        h["reference"] = json!("VT-2025-002");
        app.post(&cm1, "/api/v1/households", h.clone()).await.expect(StatusCode::CREATED);

        // Its own casemanager hears precisely what clashes.
        let own = app.post(&cm1, "/api/v1/households", h.clone()).await.expect_problem(StatusCode::CONFLICT, "");
        assert!(own.body["detail"].as_str().unwrap().contains("with this id exists"), "{}", own.text);

        // Anyone else: the same answer for the id and for the reference, naming neither.
        let by_id = app.post(&cm2, "/api/v1/households", h.clone()).await.expect_problem(StatusCode::CONFLICT, "");
        let mut by_reference = crate::helpers::household_json("D-9999");
        by_reference["reference"] = json!("VT-2025-002");
        let by_reference = app.post(&cm2, "/api/v1/households", by_reference).await.expect_problem(StatusCode::CONFLICT, "");
        assert_eq!(by_id.body, by_reference.body);
        let detail = by_id.body["detail"].as_str().unwrap();
        assert!(detail.contains("already known to zicht"), "{detail}");
        assert!(!by_id.text.contains("D-0002") && !by_id.text.contains("cm1") && !by_id.text.contains("VT-2025"), "{}", by_id.text);
        // Nothing was stored, the attempts are audited as refused, and D-9999 does not exist.
        assert_eq!(app.scalar("SELECT COUNT(*) FROM households").await, 1);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'household.create' AND outcome = 'denied' AND household_id = 'D-0002'").await, 2);
        app.get(&cm2, "/api/v1/households/D-0002").await.expect_problem(StatusCode::NOT_FOUND, "");
    }
}

/// The status of a page opened with `session`, and where it sends the browser.
async fn open_with(app: &TestApp, session: &str, path: &str) -> (StatusCode, String) {
    let reply = browser()
        .get(app.url(path))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    let location = reply
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (reply.status(), location)
}

both! {
    // Finding 7: after a password change the old session still worked, a user with every token
    // revoked still signed in, nobody could be deactivated, tokens never expired, and an admin
    // could revoke its own last token.
    async fn credentials_end_when_they_should(app: TestApp) {
        let petra_token = with_password(&app, "petra", "casemanager").await;
        let petra = app.scalar("SELECT id FROM users WHERE username = 'petra'").await;
        let session = sign_in(&app, "petra", PASSWORD).await.unwrap();
        assert_eq!(open_with(&app, &session, "/huishoudens").await.0, StatusCode::OK);

        // A new password ends the sessions signed in with the old one.
        app.put(&app.admin_token, &format!("/api/v1/users/{petra}/password"), json!({"password": "een-heel-nieuw-wachtwoord"}))
            .await.expect(StatusCode::NO_CONTENT);
        assert_eq!(open_with(&app, &session, "/huishoudens").await, (StatusCode::SEE_OTHER, "/inloggen".to_owned()));
        let session = sign_in(&app, "petra", "een-heel-nieuw-wachtwoord").await.unwrap();

        // Deactivated: sessions end, tokens stop, sign-in is refused like a wrong password.
        let deactivated = app.post(&app.admin_token, &format!("/api/v1/users/{petra}/deactivate"), json!({})).await.expect(StatusCode::OK);
        assert_eq!(deactivated.body["active"], false);
        assert_eq!(open_with(&app, &session, "/huishoudens").await.1, "/inloggen");
        app.get(&petra_token, "/api/v1/me").await.expect_problem(StatusCode::UNAUTHORIZED, "");
        let (status, _) = (sign_in(&app, "petra", "een-heel-nieuw-wachtwoord").await.unwrap_err().status(), ());
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM api_tokens WHERE user_id = (SELECT id FROM users WHERE username = 'petra') AND revoked_at_ms IS NULL").await, 0);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'user.deactivate'").await, 1);
        app.post(&app.admin_token, &format!("/api/v1/users/{petra}/tokens"), json!({"name": "weer"})).await
            .expect_problem(StatusCode::CONFLICT, "");

        // No admin deactivates itself, nor the last active admin.
        let admin = app.scalar("SELECT id FROM users WHERE username = 'admin'").await;
        let refusal = app.post(&app.admin_token, &format!("/api/v1/users/{admin}/deactivate"), json!({})).await
            .expect_problem(StatusCode::CONFLICT, "");
        assert!(refusal.body["detail"].as_str().unwrap().contains("yourself"));
        let cm = app.user("cm1", "casemanager").await;
        app.post(&cm, &format!("/api/v1/users/{admin}/deactivate"), json!({})).await.expect_problem(StatusCode::FORBIDDEN, "");

        // Tokens expire: by default after token_days, or after the days asked for.
        let short = app.post(&app.admin_token, "/api/v1/users/1/tokens", json!({"name": "kort", "expires_in_days": 1})).await
            .expect(StatusCode::CREATED);
        let expires: zicht::domain::Instant = short.body["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(expires.millis() - zicht::clock::Clock::now(&app.clock).millis(), 24 * 3600 * 1000);
        let short = short.body["secret"].as_str().unwrap().to_owned();
        app.post(&app.admin_token, "/api/v1/users/1/tokens", json!({"name": "te lang", "expires_in_days": 400})).await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "expires_in_days");
        app.get(&short, "/api/v1/me").await.expect(StatusCode::OK);
        app.clock.advance(jiff::SignedDuration::from_hours(25));
        app.get(&short, "/api/v1/me").await.expect_problem(StatusCode::UNAUTHORIZED, "");
        let tokens = app.get(&app.admin_token, "/api/v1/users/1/tokens").await.expect(StatusCode::OK);
        assert!(tokens.body.as_array().unwrap().iter().all(|t| t["expires_at"].is_string()));

        // The admin's last valid token cannot be revoked by mistake; with another it can.
        let own = tokens.body.as_array().unwrap().iter().find(|t| t["name"] == "bootstrap").unwrap()["id"].as_i64().unwrap();
        app.request(reqwest::Method::DELETE, &format!("/api/v1/tokens/{own}"), Some(&app.admin_token), None).await
            .expect_problem(StatusCode::CONFLICT, "");
        let spare = app.post(&app.admin_token, "/api/v1/users/1/tokens", json!({"name": "reserve"})).await.expect(StatusCode::CREATED);
        let spare = spare.body["secret"].as_str().unwrap().to_owned();
        app.request(reqwest::Method::DELETE, &format!("/api/v1/tokens/{own}"), Some(&app.admin_token), None).await
            .expect(StatusCode::OK);
        app.get(&spare, "/api/v1/me").await.expect(StatusCode::OK);
    }
}

/// The notices about changed assignments in an inbox, newest first, as (household, link).
async fn assignment_notices(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let inbox = app
        .get(token, "/api/v1/inbox?limit=500")
        .await
        .expect(StatusCode::OK);
    inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["why"] == "assignment")
        .map(|n| {
            (
                n["household"].as_str().unwrap().to_owned(),
                n["link"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

both! {
    // Finding 2: an admin read any household in three calls (create a user, put it on the
    // household's assignments, issue it a token), and nobody was told.
    async fn no_assignment_change_is_silent(app: TestApp) {
        let rg = app.user("rg1", "regisseur").await;
        app.user("cm1", "casemanager").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        let before = assignment_notices(&app, &rg).await.len();

        // The admin puts a fresh account of its own making on the household.
        let puppet = app.user("stroman", "casemanager").await;
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"regisseur": "rg1", "casemanagers": ["cm1", "stroman"]}))
            .await.expect(StatusCode::OK);
        app.get(&puppet, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
        // Not silently: the regisseur is told, and the household's audit log shows who did it.
        let told = assignment_notices(&app, &rg).await;
        assert_eq!(told.len(), before + 1, "{told:?}");
        assert_eq!(told[0], ("H-0001".to_owned(), "/api/v1/households/H-0001".to_owned()));
        let log = app.get(&app.admin_token, "/api/v1/audit?household=H-0001&limit=500").await.expect(StatusCode::OK);
        assert!(log.body["items"].as_array().unwrap().iter().any(|r| r["action"] == "assignment.set" && r["actor"] == "admin"));

        // Taking the regisseur off tells them too, and they still see why.
        app.user("rg2", "regisseur").await;
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"regisseur": "rg2", "casemanagers": ["cm1"]}))
            .await.expect(StatusCode::OK);
        assert_eq!(assignment_notices(&app, &rg).await.len(), before + 2);
        // The same assignments again change nothing and tell nobody.
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"regisseur": "rg2", "casemanagers": ["cm1"]}))
            .await.expect(StatusCode::OK);
        assert_eq!(assignment_notices(&app, &rg).await.len(), before + 2);
        // The pages say it in Dutch.
        with_password(&app, "rg-web", "regisseur").await;
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments", json!({"regisseur": "rg-web", "casemanagers": ["cm1"]}))
            .await.expect(StatusCode::OK);
        let session = sign_in(&app, "rg-web", PASSWORD).await.unwrap();
        let html = page(&app, &session, "/berichten").await;
        assert!(html.contains("Toewijzing gewijzigd bij"), "{html}");
    }
}

both! {
    // Break-the-glass: Veilig Thuis reads a household of its region without an assignment only
    // with a reason, only for the hours it lasts, never writes; the regisseur is told and can see
    // who and why; an admin reviews every such read.
    async fn veilig_thuis_breaks_the_glass_with_a_reason_for_three_hours(app: TestApp) {
        let rg = app.user("rg1", "regisseur").await;
        let cm = app.user("cm1", "casemanager").await;
        let vt = app.user("vt-bzo", "veilig_thuis").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.score(&cm, "H-0001", "slachtoffer", 3, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        let vt_hgl = {
            let u = app.post(&app.admin_token, "/api/v1/users", json!({"username":"vt-hgl","role":"veilig_thuis","region":"haaglanden"}))
                .await.expect(StatusCode::CREATED);
            let t = app.post(&app.admin_token, &format!("/api/v1/users/{}/tokens", u.body["id"]), json!({"name":"t"})).await;
            t.body["secret"].as_str().unwrap().to_owned()
        };
        app.post(&app.admin_token, "/api/v1/users", json!({"username":"vt-zonder","role":"veilig_thuis"}))
            .await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "region");

        // Without the glass: nothing, exactly as for a household that does not exist.
        app.get(&vt, "/api/v1/households/H-0001").await.expect_problem(StatusCode::NOT_FOUND, "");
        let glass = "/api/v1/households/H-0001/break-glass";
        // No reason, or no real one: refused, and nothing opened.
        app.post(&vt, glass, json!({})).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "reason");
        app.post(&vt, glass, json!({"reason": "crisis"})).await.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "reason");
        app.get(&vt, "/api/v1/households/H-0001/timeline").await.expect_problem(StatusCode::NOT_FOUND, "");
        // Another region's Veilig Thuis, an unknown household, a casemanager: not found / forbidden.
        app.post(&vt_hgl, glass, json!({"reason": "crisismelding politie vannacht"})).await.expect_problem(StatusCode::NOT_FOUND, "");
        app.post(&vt, "/api/v1/households/H-0404/break-glass", json!({"reason": "crisismelding politie vannacht"})).await
            .expect_problem(StatusCode::NOT_FOUND, "");
        app.post(&cm, glass, json!({"reason": "crisismelding politie vannacht"})).await.expect_problem(StatusCode::FORBIDDEN, "");

        app.at("2025-01-07T02:00:00+01:00");
        let granted = app.post(&vt, glass, json!({"reason": "crisismelding politie vannacht, veiligheid kinderen"})).await
            .expect(StatusCode::CREATED);
        assert_eq!(granted.body["until"], "2025-01-07T05:00:00+01:00");
        // Now it reads the household and its timeline; it never writes.
        app.get(&vt, "/api/v1/households/H-0001").await.expect(StatusCode::OK);
        app.get(&vt, "/api/v1/households/H-0001/timeline").await.expect(StatusCode::OK);
        app.score(&vt, "H-0001", "slachtoffer", 5, "2025-01-07T02:30:00+01:00").await.expect_problem(StatusCode::NOT_FOUND, "");
        // The regisseur is told at once, and sees who and why.
        let inbox = app.get(&rg, "/api/v1/inbox").await.expect(StatusCode::OK);
        assert_eq!(inbox.body["items"][0]["why"], "break_glass", "{}", inbox.body);
        assert_eq!(inbox.body["items"][0]["household"], "H-0001");
        let seen = app.get(&rg, glass).await.expect(StatusCode::OK);
        assert_eq!(seen.body[0]["username"], "vt-bzo");
        assert_eq!(seen.body[0]["reason"], "crisismelding politie vannacht, veiligheid kinderen");
        // Not the casemanager, and not another regisseur.
        app.get(&cm, glass).await.expect_problem(StatusCode::NOT_FOUND, "");
        // The admin reviews every read; nobody else lists them.
        let all = app.get(&app.admin_token, "/api/v1/break-glass").await.expect(StatusCode::OK);
        assert_eq!(all.body.as_array().unwrap().len(), 1);
        app.get(&rg, "/api/v1/break-glass").await.expect_problem(StatusCode::FORBIDDEN, "");
        // Audited as such.
        let audited = app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'household.break_glass' AND outcome = 'ok' AND household_id = 'H-0001'").await;
        assert_eq!(audited, 1);

        // Three hours later it has lapsed by itself.
        app.at("2025-01-07T05:00:00+01:00");
        app.get(&vt, "/api/v1/households/H-0001").await.expect_problem(StatusCode::NOT_FOUND, "");
    }
}

/// Behind a reverse proxy every client arrives from the proxy's address: the address throttle
/// must count the client the proxy names, and only when the proxy is trusted.
async fn failures_from(app: &TestApp, forwarded_for: &str, times: usize) {
    for i in 0..times {
        let reply = crate::web::sign_in_via(
            &app.url(""),
            &format!("naam-{i}"),
            WRONG,
            Some(forwarded_for),
        )
        .await
        .expect_err("refused");
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        app.clock.advance(jiff::SignedDuration::from_mins(10));
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled_not_everyone() {
    let app = TestApp::spawn_sqlite_configured(|s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]
    })
    .await;
    with_password(&app, "karin", "regisseur").await;
    failures_from(&app, "203.0.113.7", 30).await;
    let spraying =
        crate::web::sign_in_via(&app.url(""), "karin", PASSWORD, Some("203.0.113.7")).await;
    assert_eq!(
        spraying.expect_err("locked").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy signs in; a client cannot pick its address by putting
    // one in front of what the proxy adds.
    crate::web::sign_in_via(&app.url(""), "karin", PASSWORD, Some("198.51.100.2"))
        .await
        .expect("another client");
    let disguised = crate::web::sign_in_via(
        &app.url(""),
        "karin",
        PASSWORD,
        Some("198.51.100.9, 203.0.113.7"),
    )
    .await;
    assert_eq!(
        disguised.expect_err("still locked").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn without_a_trusted_proxy_x_forwarded_for_is_ignored() {
    let app = TestApp::spawn_sqlite().await;
    with_password(&app, "karin", "regisseur").await;
    // Each attempt claims another address: all count against the peer's own.
    for i in 0..30 {
        let reply = crate::web::sign_in_via(
            &app.url(""),
            &format!("naam-{i}"),
            WRONG,
            Some(&format!("192.0.2.{i}")),
        )
        .await
        .expect_err("refused");
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        app.clock.advance(jiff::SignedDuration::from_mins(10));
    }
    let next = crate::web::sign_in_via(&app.url(""), "karin", PASSWORD, Some("192.0.2.200")).await;
    assert_eq!(
        next.expect_err("locked").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn writes_through_the_pages_count_against_the_write_limit_too() {
    let app = TestApp::spawn_sqlite_configured(|s| s.writes_per_minute = 5).await;
    with_password(&app, "cm1", "casemanager").await;
    app.household("H-0001", None, &["cm1"]).await;
    let session = sign_in(&app, "cm1", PASSWORD).await.unwrap();
    let csrf = crate::web::page_csrf(&app, &session, "/huishoudens/H-0001/score").await;
    let post = |value: &'static str| {
        let (url, session, csrf) = (
            app.url("/huishoudens/H-0001/score"),
            session.clone(),
            csrf.clone(),
        );
        async move {
            browser()
                .post(url)
                .header("cookie", &session)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("perspective", "casemanager"),
                    ("value", value),
                    ("at", "2025-01-06T10:00"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for value in ["5", "6", "5", "6", "5"] {
        assert_eq!(post(value).await.status(), StatusCode::SEE_OTHER);
    }
    let refused = post("6").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("U heeft dit te vaak achter elkaar gedaan.")
    );
    assert_eq!(
        app.count("events").await,
        5,
        "the refused score was not stored"
    );
    // The minute passes on the service's clock, and the form works again.
    app.clock.advance(jiff::SignedDuration::from_mins(1));
    assert_eq!(post("6").await.status(), StatusCode::SEE_OTHER);
}
