//! The web pages over plain HTTP: sign-in, sessions, CSRF, and that every page needs a session.

use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::helpers::{TestApp, both};

pub(crate) const PASSWORD: &str = "correct-paard-batterij";

pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A user who signs in with [`PASSWORD`]; returns their API token.
pub(crate) async fn with_password(app: &TestApp, name: &str, role: &str) -> String {
    let token = app.user(name, role).await;
    let mut conn = app.state.db.acquire().await.unwrap();
    let user = zicht::store::find_user_by_name(&mut conn, name)
        .await
        .unwrap()
        .unwrap();
    zicht::store::sessions::set_password_hash(
        &mut conn,
        user.id,
        &zicht::auth::hash_password(PASSWORD),
    )
    .await
    .unwrap();
    token
}

pub(crate) fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Signs in and returns the session cookie (`name=value`).
pub(crate) async fn sign_in(
    app: &TestApp,
    name: &str,
    password: &str,
) -> Result<String, reqwest::Response> {
    sign_in_at(&app.url(""), name, password).await
}

/// Signs in at `base` (a zicht instance, e.g. a second one on the same database), returning the
/// session cookie or the refusal.
pub(crate) async fn sign_in_at(
    base: &str,
    name: &str,
    password: &str,
) -> Result<String, reqwest::Response> {
    sign_in_via(base, name, password, None).await
}

/// Signs in through a reverse proxy that says the client is `forwarded_for`.
pub(crate) async fn sign_in_via(
    base: &str,
    name: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Result<String, reqwest::Response> {
    let client = browser();
    let form = client.get(format!("{base}/inloggen")).send().await.unwrap();
    let login_cookie = cookie(&form, "zicht_login").unwrap();
    let html = form.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let mut post = client.post(format!("{base}/inloggen"));
    if let Some(address) = forwarded_for {
        post = post.header("x-forwarded-for", address);
    }
    let reply = post
        .header("cookie", &login_cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", name),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    match cookie(&reply, "zicht_session") {
        Some(c) if reply.status() == StatusCode::SEE_OTHER => Ok(c),
        _ => Err(reply),
    }
}

both! {
    async fn every_page_needs_a_session_and_sessions_expire(app: TestApp) {
        with_password(&app, "petra", "casemanager").await;
        app.household("H-0001", None, &["petra"]).await;
        for path in ["/", "/huishoudens", "/huishoudens/H-0001", "/huishoudens/H-0001/score", "/waarschuwingen", "/berichten", "/gemeente", "/melden"] {
            let reply = browser().get(app.url(path)).send().await.unwrap();
            assert_eq!(reply.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(reply.headers()["location"], "/inloggen", "{path}");
        }
        let wrong = sign_in(&app, "petra", "fout-wachtwoord-123").await.unwrap_err();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(wrong.text().await.unwrap().contains("Gebruikersnaam of wachtwoord klopt niet."));

        let session = sign_in(&app, "petra", PASSWORD).await.unwrap();
        let page = browser().get(app.url("/huishoudens")).header("cookie", &session).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
        let html = page.text().await.unwrap();
        assert!(html.contains("<html lang=\"nl\">") && html.contains("H-0001"));

        // A form without the session's CSRF token is refused, and stores nothing.
        let forged = browser()
            .post(app.url("/huishoudens/H-0001/score"))
            .header("cookie", &session)
            .form(&[("csrf", "geraden"), ("perspective", "slachtoffer"), ("value", "4"), ("at", "2025-01-06T10:00")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.count("events").await, 0);

        // After a working day the session has expired.
        app.clock.advance(jiff::SignedDuration::from_hours(9));
        let later = browser().get(app.url("/huishoudens")).header("cookie", &session).send().await.unwrap();
        assert_eq!(later.status(), StatusCode::SEE_OTHER);
    }

    async fn the_score_form_wants_a_reason_for_a_big_change(app: TestApp) {
        with_password(&app, "petra", "casemanager").await;
        app.household("H-0001", None, &["petra"]).await;
        let session = sign_in(&app, "petra", PASSWORD).await.unwrap();
        let page = browser().get(app.url("/huishoudens/H-0001/score")).header("cookie", &session).send().await.unwrap();
        let html = page.text().await.unwrap();
        let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let post = |value: &'static str, reason: &'static str| {
            let (session, csrf) = (session.clone(), csrf.clone());
            let url = app.url("/huishoudens/H-0001/score");
            async move {
                browser()
                    .post(url)
                    .header("cookie", &session)
                    .form(&[("csrf", csrf.as_str()), ("perspective", "slachtoffer"), ("value", value), ("reason", reason), ("at", "2025-01-06T10:00")])
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(post("3", "").await.status(), StatusCode::SEE_OTHER);
        let refused = post("6", "").await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("het verschilt 3 punten van de vorige score (3)"), "{html}");
        assert!(html.contains("value=\"6\""), "the typed value is kept");
        assert_eq!(post("6", "Afspraken nagekomen, geen incidenten.").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("events").await, 2);
    }
}

async fn monitor_page(app: &TestApp) -> String {
    with_password(app, "aov-eindhoven", "gemeente_monitor").await;
    let session = sign_in(app, "aov-eindhoven", PASSWORD).await.unwrap();
    let page = browser()
        .get(app.url("/gemeente"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    page.text().await.unwrap()
}

async fn gemeente_households(app: &TestApp) {
    for i in 0..6 {
        app.household(&format!("H-{i:04}"), None, &[]).await;
    }
    let mut helmond = crate::helpers::household_json("H-0100");
    helmond["gemeente"] = serde_json::json!("Helmond");
    app.post(&app.admin_token, "/api/v1/households", helmond)
        .await
        .expect(StatusCode::CREATED);
    let rg = app.user("rg1", "regisseur").await;
    app.put(
        &app.admin_token,
        "/api/v1/households/H-0000/assignments",
        serde_json::json!({"regisseur": "rg1"}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        &rg,
        "/api/v1/households/H-0000/events",
        serde_json::json!({"type": "escalation", "step": 3, "reason": "geweld niet te stoppen", "at": "2025-01-06T10:00:00+01:00"}),
    )
    .await
    .expect(StatusCode::CREATED);
    // The household at step 3 has direct safety for now (phase 2): a step is never a phase.
    app.score(&rg, "H-0000", "slachtoffer", 7, "2025-01-06T10:00:00+01:00")
        .await;
}

both! {
    async fn the_gemeente_dashboard_shows_only_small_safe_numbers(app: TestApp) {
        gemeente_households(&app).await;
        let html = monitor_page(&app).await;
        assert!(html.contains("Structurele onveiligheid in Eindhoven"));
        // Five households in phase 1, one in phase 2, all in one wijk, six in all. The one is
        // not shown, and neither is the five: with the total of six it would give the one away.
        assert!(html.contains("data-label=\"2 · directe veiligheid\">&lt; 5</td>"), "{html}");
        assert!(html.contains("data-label=\"1 · acute onveiligheid\">x</td>"), "{html}");
        assert!(!html.contains(">5</td>"), "{html}");
        assert!(html.contains("data-label=\"Totaal\">6</td>"), "{html}");
        // Ogen en oren: counts per wijk and week, never a signal's date or source.
        assert!(html.contains("per wijk en week"), "{html}");
        assert!(!html.contains("H-0"), "a household id reached the gemeente page");
        assert!(html.contains("deelt geen huishoudens op trede 3"));
    }
}

async fn shared_step3(app: TestApp) {
    gemeente_households(&app).await;
    let html = monitor_page(&app).await;
    let pseudonym = html
        .split("afgesproken: ")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        pseudonym.starts_with("P-") && pseudonym.len() == 12,
        "{pseudonym}"
    );
    assert!(
        !html.contains("H-0"),
        "a household id reached the gemeente page"
    );
    // Stable for the same household ...
    assert!(monitor_page_again(&app).await.contains(&pseudonym));
    // ... and keyed with the service's secret: not a plain hash of the id anyone could recompute.
    use sha2::Digest;
    let plain: String = sha2::Sha256::digest(b"H-0000")[..5]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_ne!(pseudonym, format!("P-{plain}"));
}

async fn monitor_page_again(app: &TestApp) -> String {
    let session = sign_in(app, "aov-eindhoven", PASSWORD).await.unwrap();
    browser()
        .get(app.url("/gemeente"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn sharing_rules() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let shipped =
        std::fs::read_to_string(crate::helpers::shipped_alerts().join("rules.toml")).unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        shipped.replace(
            "share_step3_with_gemeente = false",
            "share_step3_with_gemeente = true",
        ),
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn a_region_may_share_step_3_households_pseudonymised_sqlite() {
    let rules = sharing_rules();
    shared_step3(TestApp::spawn_sqlite_with_rules(rules.path().to_owned()).await).await;
}

#[tokio::test]
#[cfg_attr(
    not(zicht_postgres),
    ignore = "PostgreSQL suite: set ZICHT_TEST_POSTGRES_URL to a role that may create databases (README.md)"
)]
async fn a_region_may_share_step_3_households_pseudonymised_postgres() {
    let rules = sharing_rules();
    if let Some(app) = TestApp::spawn_postgres_with_rules(rules.path().to_owned()).await {
        shared_step3(app).await;
    }
}

/// The CSRF token of the form on a page.
pub(crate) async fn page_csrf(app: &TestApp, session: &str, path: &str) -> String {
    let html = browser()
        .get(app.url(path))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no form on {path}: {html}"))
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

both! {
    async fn decisions_on_the_pages_follow_the_same_rules_as_the_api(app: TestApp) {
        with_password(&app, "rg1", "regisseur").await;
        with_password(&app, "cm1", "casemanager").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        let cm = app.user("cm-api", "casemanager").await;
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments",
            serde_json::json!({"regisseur": "rg1", "casemanagers": ["cm1", "cm-api"]}))
            .await.expect(StatusCode::OK);
        app.score(&cm, "H-0001", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        let id = app.scalar("SELECT id FROM alerts WHERE rule = 'uiteenlopende-scores'").await;
        let page = format!("/waarschuwingen/{id}");

        let regisseur = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let csrf = page_csrf(&app, &regisseur, &page).await;
        let post = |path: String, session: String, fields: Vec<(&'static str, String)>| {
            let url = app.url(&path);
            async move { browser().post(url).header("cookie", &session).form(&fields).send().await.unwrap() }
        };
        // A specialism goes with a specialist consult only: refused, in Dutch, nothing recorded.
        let refused = post(format!("{page}/afhandelen"), regisseur.clone(), vec![
            ("csrf", csrf.clone()), ("decision", "geen_actie".into()),
            ("specialism", "forensische_ggz".into()), ("reason", "Gesprek gevoerd.".into()),
        ]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("Kies alleen een specialisme bij het besluit om een specialist te consulteren."), "{html}");
        // A silence of more than a year is refused as in the API.
        let too_long = post(format!("{page}/pauzeren"), regisseur.clone(), vec![
            ("csrf", csrf.clone()), ("reason", "Lang".into()), ("until", "2026-01-08".into()),
        ]).await;
        assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(too_long.text().await.unwrap().contains("Pauzeer hoogstens een jaar."));
        assert_eq!(app.scalar("SELECT COUNT(*) FROM alert_transitions WHERE why <> 'first'").await, 0);

        // A casemanager sees the alert but may not decide: told so, not "not found".
        let casemanager = sign_in(&app, "cm1", PASSWORD).await.unwrap();
        let cm_csrf = page_csrf(&app, &casemanager, "/huishoudens/H-0001/score").await;
        let forbidden = post(format!("{page}/afhandelen"), casemanager, vec![
            ("csrf", cm_csrf), ("decision", "geen_actie".into()), ("reason", "x".into()),
        ]).await;
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

        // The regisseur's decision, as the API would record it.
        let done = post(format!("{page}/afhandelen"), regisseur, vec![
            ("csrf", csrf), ("decision", "specialist_consult".into()),
            ("specialism", "forensische_ggz".into()), ("reason", "Vermoeden dwingende controle.".into()),
        ]).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let detail = app.get(&app.user("rg-api", "regisseur").await, &format!("/api/v1/alerts/{id}")).await;
        assert_eq!(detail.status, StatusCode::NOT_FOUND, "another regisseur does not see it");
        let audit = app.get(&app.admin_token, "/api/v1/audit?household=H-0001&limit=500").await.expect(StatusCode::OK);
        let rows: Vec<(String, String)> = audit.body["items"].as_array().unwrap().iter()
            .map(|r| (r["action"].as_str().unwrap().to_owned(), r["outcome"].as_str().unwrap().to_owned()))
            .collect();
        assert!(rows.contains(&("alert.acknowledge".into(), "ok".into())), "{rows:?}");
        assert!(rows.contains(&("alert.acknowledge".into(), "denied".into())), "the casemanager's try is audited: {rows:?}");
    }
}

both! {
    async fn the_event_form_records_a_step_of_the_ladder_with_its_reason(app: TestApp) {
        with_password(&app, "rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &[]).await;
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let csrf = page_csrf(&app, &session, "/huishoudens/H-0001/gebeurtenis").await;
        let post = |fields: Vec<(&'static str, String)>| {
            let (url, session) = (app.url("/huishoudens/H-0001/gebeurtenis"), session.clone());
            async move { browser().post(url).header("cookie", &session).form(&fields).send().await.unwrap() }
        };
        let base = |step: &str, text: &str| vec![
            ("csrf", csrf.clone()), ("type", "escalation".to_owned()), ("at", "2025-01-06T10:00".to_owned()),
            ("step", step.to_owned()), ("text", text.to_owned()),
        ];
        let no_reason = post(base("3", "")).await;
        assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_reason.text().await.unwrap().contains("Geef aan waarom het huishouden op deze trede staat."));
        let no_step = post(base("", "Geweld niet te stoppen.")).await;
        assert_eq!(no_step.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_step.text().await.unwrap().contains("Kies de trede."));
        assert_eq!(app.count("events").await, 0);
        assert_eq!(post(base("3", "Geweld niet te stoppen.")).await.status(), StatusCode::SEE_OTHER);
        let page = browser().get(app.url("/huishoudens/H-0001")).header("cookie", &session).send().await.unwrap();
        let html = page.text().await.unwrap();
        assert!(html.contains("Trede 3 · geweld niet te stoppen"), "{html}");
        assert!(!html.contains("3 · stabiele veiligheid"), "a step is never shown as a phase");
    }
}

both! {
    async fn the_demo_shows_every_rule_and_a_weeks_work(app: TestApp) {
    let users = zicht::demo::fill(&app.state).await.unwrap().expect("an empty database");
    assert!(users.iter().any(|(name, _)| name == "rg-carla"));
    let shown = app.scalar("SELECT COUNT(DISTINCT rule) FROM alerts").await;
    let rules = app.state.rules();
    let alerting = rules.for_region(zicht::domain::Region::BrabantZuidoost).rules.iter().filter(|r| !r.observation).count();
    assert_eq!(shown, alerting as i64, "every alert rule shows somewhere");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM alerts WHERE rule = 'dalende-trend'").await, 0, "an observation is no alert");
    // The regisseur decided on what fired before the last two weeks; what is open and unread is
    // a week's work, not two years of it.
    let unread = app
        .scalar(
            "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id
             WHERE u.username = 'rg-carla' AND n.read_at_ms IS NULL",
        )
        .await;
    assert!((1..=40).contains(&unread), "{unread} unread");
    let decided = app.scalar("SELECT COUNT(*) FROM alerts WHERE state = 'acknowledged'").await;
    assert!(decided > 0);
    assert!(zicht::demo::fill(&app.state).await.unwrap().is_none(), "only on an empty database");
}
}

both! {
    async fn unknown_urls_answer_a_browser_in_dutch_and_the_alert_forms_share_no_id(app: TestApp) {
        let page = browser().get(app.url("/bestaat-niet")).header("accept", "text/html,*/*").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(page.text().await.unwrap().contains("Niet gevonden"));
        let api = browser().get(app.url("/api/v1/bestaat-niet")).send().await.unwrap();
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert_eq!(api.headers()["content-type"], "application/problem+json");

        with_password(&app, "rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &[]).await;
        let cm = app.user("cm1", "casemanager").await;
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments",
            serde_json::json!({"regisseur": "rg1", "casemanagers": ["cm1"]})).await.expect(StatusCode::OK);
        app.score(&cm, "H-0001", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        let id = app.scalar("SELECT id FROM alerts WHERE rule = 'uiteenlopende-scores'").await;
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let html = browser().get(app.url(&format!("/waarschuwingen/{id}"))).header("cookie", &session)
            .send().await.unwrap().text().await.unwrap();
        let mut ids: Vec<&str> = html.split(" id=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all, "an id is used twice: {html}");
        assert!(ids.contains(&"reason") && ids.contains(&"pauze-reason"));
        assert!(html.contains("label for=\"pauze-reason\""));
    }
}

/// A page as a signed-in browser gets it: its status and HTML.
pub(crate) async fn open(app: &TestApp, session: &str, path: &str) -> (StatusCode, String) {
    let reply = browser()
        .get(app.url(path))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    (reply.status(), reply.text().await.unwrap())
}

/// The work queue on a page: each household's id with its alerts' ids, in the order shown.
fn queue_of(html: &str) -> Vec<(String, Vec<i64>)> {
    html.split("<section class=\"household\"")
        .skip(1)
        .map(|section| {
            let household = section
                .split("href=\"/huishoudens/")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap()
                .to_owned();
            let alerts = section
                .split("href=\"/waarschuwingen/")
                .skip(1)
                .filter_map(|s| s.split('"').next()?.parse().ok())
                .collect();
            (household, alerts)
        })
        .collect()
}

/// An alert as the engine raises it, `day` days after the start, written straight to the
/// database so that a test controls its severity and age exactly.
pub(crate) async fn raised(
    app: &TestApp,
    household: &str,
    rule: &str,
    severity: &str,
    state: &str,
    day: i64,
) -> i64 {
    let at = crate::helpers::start_time().millis() + day * 86_400_000;
    app.execute(&format!(
        "INSERT INTO alerts (household_id, rule, one_shot, state, severity, advice, since_ms, fired_at_ms, evidence, updated_at_ms)
         VALUES ('{household}', '{rule}', 0, '{state}', '{severity}', 'Advies van {rule}.', {at}, {at}, '[]', {at})"
    ))
    .await
    .unwrap();
    app.scalar(&format!(
        "SELECT id FROM alerts WHERE household_id = '{household}' AND rule = '{rule}'"
    ))
    .await
}

async fn in_gemeente(app: &TestApp, id: &str, gemeente: &str, regisseur: &str) {
    let mut h = crate::helpers::household_json(id);
    h["gemeente"] = serde_json::json!(gemeente);
    app.post(&app.admin_token, "/api/v1/households", h)
        .await
        .expect(StatusCode::CREATED);
    app.put(
        &app.admin_token,
        &format!("/api/v1/households/{id}/assignments"),
        serde_json::json!({"regisseur": regisseur}),
    )
    .await
    .expect(StatusCode::OK);
}

both! {
    async fn the_queue_groups_per_household_most_pressing_first_and_filters(app: TestApp) {
        let token = with_password(&app, "rg1", "regisseur").await;
        app.user("rg2", "regisseur").await;
        for h in ["H-0001", "H-0002", "H-0003"] {
            app.household(h, Some("rg1"), &[]).await;
        }
        in_gemeente(&app, "H-0100", "Helmond", "rg1").await;
        app.household("H-0009", Some("rg2"), &[]).await;
        // H-0001: a warning and an older reminder; H-0002: two critical alerts and an old
        // reminder; H-0003: a critical alert waiting longer than H-0002's, and a handled one.
        let trend = raised(&app, "H-0001", "meting-achterstallig", "info", "firing", 1).await;
        let divergence = raised(&app, "H-0001", "uiteenlopende-scores", "warning", "firing", 10).await;
        let relapse = raised(&app, "H-0002", "terugval", "critical", "firing", 20).await;
        let overdue = raised(&app, "H-0002", "meting-achterstallig", "info", "firing", 2).await;
        let no_safety = raised(&app, "H-0002", "geen-directe-veiligheid", "critical", "firing", 15).await;
        let forensic = raised(&app, "H-0003", "forensisch-consult", "critical", "firing", 5).await;
        let handled = raised(&app, "H-0003", "herhaald-gemeld", "critical", "acknowledged", 1).await;
        let helmond = raised(&app, "H-0100", "herhaald-gemeld", "warning", "firing", 3).await;
        let elsewhere = raised(&app, "H-0009", "terugval", "critical", "firing", 0).await;
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();

        let (status, html) = open(&app, &session, "/waarschuwingen").await;
        assert_eq!(status, StatusCode::OK);
        // The most severe first, then the longest waiting at that severity: an old reminder does
        // not lift H-0002 above H-0003, nor an old reminder H-0001 above H-0100.
        assert_eq!(queue_of(&html), [
            ("H-0003".to_owned(), vec![forensic]),
            ("H-0002".to_owned(), vec![no_safety, relapse, overdue]),
            ("H-0100".to_owned(), vec![helmond]),
            ("H-0001".to_owned(), vec![divergence, trend]),
        ]);
        assert!(html.contains("Open (7)") && html.contains("Afgehandeld (1)"), "{html}");
        assert!(html.contains("<strong>7</strong> open waarschuwingen bij 4 huishoudens."), "{html}");
        assert!(html.contains("Eindhoven, Woensel-Noord · 3 open"), "{html}");
        assert!(html.contains("Helmond, Woensel-Noord · 1 open"), "{html}");
        assert!(!html.contains("H-0009"), "another regisseur's household");
        assert!(html.contains("action=\"/waarschuwingen\"") && html.contains("name=\"ernst\""));

        let filtered = |query: &'static str| {
            let (app, session) = (&app, session.clone());
            async move {
                let (status, html) = open(app, &session, &format!("/waarschuwingen?{query}")).await;
                assert_eq!(status, StatusCode::OK, "{query}");
                (queue_of(&html), html)
            }
        };
        let (critical, html) = filtered("ernst=critical").await;
        assert_eq!(critical, [("H-0003".to_owned(), vec![forensic]), ("H-0002".to_owned(), vec![no_safety, relapse])]);
        assert!(html.contains("<strong>3</strong> van de 7 open waarschuwingen voldoen aan de filters, bij 2 huishoudens."), "{html}");
        assert!(html.contains("<option value=\"critical\" selected>"), "the form shows the filter in force");
        assert_eq!(filtered("regel=herhaald-gemeld").await.0, [("H-0100".to_owned(), vec![helmond])]);
        assert_eq!(filtered("gemeente=Helmond").await.0, [("H-0100".to_owned(), vec![helmond])]);
        assert_eq!(filtered("huishouden=H-0001").await.0, [("H-0001".to_owned(), vec![divergence, trend])]);
        assert_eq!(filtered("ernst=info&gemeente=Eindhoven").await.0, [
            ("H-0001".to_owned(), vec![trend]),
            ("H-0002".to_owned(), vec![overdue]),
        ]);
        // What was handled left the queue and is on its own tab.
        assert_eq!(filtered("tab=afgehandeld").await.0, [("H-0003".to_owned(), vec![handled])]);
        assert!(filtered("tab=afgehandeld&ernst=warning").await.1.contains("Geen afgehandelde waarschuwingen die aan de filters voldoen."));

        // A careless client: unknown values are left out, any page number shows a page.
        let (all, html) = filtered("ernst=heel-erg&regel=bestaat-niet&gemeente=Atlantis&pagina=-1&onbekend=1").await;
        assert_eq!(all.len(), 4);
        assert!(html.contains("Een onbekende filterwaarde is genegeerd."), "{html}");
        for query in ["pagina=0", "pagina=9223372036854775807", "pagina=99999999999999999999999", "pagina=abc",
                      "huishouden=%00%27%22", "huishouden=", "tab=%FF", "besloten=-1", "besloten=abc", "ernst=critical&ernst=info"] {
            let (status, html) = open(&app, &session, &format!("/waarschuwingen?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {html}");
        }

        // Not even an id: not found, on the API too, never a failure.
        app.get(&token, "/api/v1/households/%00%27").await.expect_problem(StatusCode::NOT_FOUND, "");
        let (status, _) = open(&app, &session, "/huishoudens/%00").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A household of someone else reads exactly like one that does not exist, and the
        // attempt is audited as a refused household read.
        let (_, other) = filtered("huishouden=H-0009").await;
        let (_, missing) = filtered("huishouden=H-9999").await;
        assert_eq!(other.replace("H-0009", "H-9999"), missing);
        assert!(other.contains("Geen open waarschuwingen die aan de filters voldoen."));
        // Nor does a confirmation name another regisseur's alert.
        let (status, html) = open(&app, &session, &format!("/waarschuwingen?besloten={elsewhere}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("H-0009") && !html.contains("Uw besluit"), "{html}");
        let audit = app.get(&app.admin_token, "/api/v1/audit?household=H-0009&limit=500").await.expect(StatusCode::OK);
        let rows: Vec<(String, String)> = audit.body["items"].as_array().unwrap().iter()
            .map(|r| (r["action"].as_str().unwrap().to_owned(), r["outcome"].as_str().unwrap().to_owned()))
            .collect();
        assert!(rows.contains(&("alert.list".into(), "denied".into())), "{rows:?}");
        let audit = app.get(&app.admin_token, "/api/v1/audit?household=H-0001&limit=500").await.expect(StatusCode::OK);
        assert!(audit.text.contains("alert.list"), "a filtered queue is a read of that household");
    }

    async fn the_queue_pages_by_household_and_keeps_the_filters(app: TestApp) {
        with_password(&app, "rg1", "regisseur").await;
        for i in 0..23 {
            let h = format!("H-{i:04}");
            app.household(&h, Some("rg1"), &[]).await;
            raised(&app, &h, "uiteenlopende-scores", "warning", "firing", i).await;
            raised(&app, &h, "meting-achterstallig", "info", "firing", 0).await;
        }
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let (_, first) = open(&app, &session, "/waarschuwingen?ernst=warning").await;
        let shown = queue_of(&first);
        assert_eq!(shown.len(), 20);
        assert_eq!(shown[0].0, "H-0000", "the longest waiting first");
        assert!(first.contains("pagina 1 van 2"), "{first}");
        assert!(!first.contains("Vorige"));
        let next = first.split("rel=\"next\" href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
        assert_eq!(next, "/waarschuwingen?ernst=warning&pagina=2");
        let (_, second) = open(&app, &session, &next).await;
        let rest: Vec<String> = queue_of(&second).into_iter().map(|(h, _)| h).collect();
        assert_eq!(rest, ["H-0020", "H-0021", "H-0022"]);
        assert!(second.contains("pagina 2 van 2") && !second.contains("Volgende"));
        assert!(second.contains("rel=\"prev\" href=\"/waarschuwingen?ernst=warning\""), "{second}");
        assert!(second.contains("<strong>23</strong> van de 46 open waarschuwingen"), "{second}");
        // Beyond the last page is the last page; before the first, the first.
        assert_eq!(queue_of(&open(&app, &session, "/waarschuwingen?ernst=warning&pagina=999").await.1).len(), 3);
        assert_eq!(queue_of(&open(&app, &session, "/waarschuwingen?pagina=-5").await.1).len(), 20);
    }

    async fn the_casemanager_queue_shows_reminders_and_no_decision_forms(app: TestApp) {
        let cm = with_password(&app, "cm1", "casemanager").await;
        with_password(&app, "rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.score(&cm, "H-0001", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        // No score for four weeks: the reminder for the casemanager's work list.
        app.at("2025-02-04T10:00:00+01:00");
        app.tick().await;
        let reminder = app.scalar("SELECT id FROM alerts WHERE rule = 'meting-achterstallig' AND state = 'firing'").await;
        let divergence = app.scalar("SELECT id FROM alerts WHERE rule = 'uiteenlopende-scores'").await;

        let session = sign_in(&app, "cm1", PASSWORD).await.unwrap();
        let (status, html) = open(&app, &session, "/waarschuwingen").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<a href=\"/waarschuwingen\">Waarschuwingen</a>"), "in the casemanager's navigation");
        let queue = queue_of(&html);
        assert_eq!(queue.len(), 1);
        assert!(queue[0].1.contains(&reminder) && queue[0].1.contains(&divergence), "{html}");
        assert!(html.contains("Meting achterstallig"));
        assert!(html.contains("href=\"/huishoudens/H-0001/score\""), "the reminder's work is one click away");
        assert!(html.contains("De regisseur van een huishouden legt over deze waarschuwingen een besluit vast."));

        // The alert's page shows no form the casemanager may not use.
        let (status, page) = open(&app, &session, &format!("/waarschuwingen/{divergence}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains("/afhandelen") && !page.contains("/pauzeren"), "{page}");
        assert!(page.contains("De regisseur van dit huishouden legt hierover een besluit vast."));
        let regisseur = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let (_, page) = open(&app, &regisseur, &format!("/waarschuwingen/{divergence}")).await;
        assert!(page.contains(&format!("action=\"/waarschuwingen/{divergence}/afhandelen\"")));
    }

    async fn a_falling_trend_is_an_observation_on_the_situatieplaat_not_an_alert(app: TestApp) {
        let cm = with_password(&app, "cm1", "casemanager").await;
        with_password(&app, "rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        for (k, v) in [9, 8, 8, 7, 6, 6].iter().enumerate() {
            let at = format!("2025-01-{:02}T10:00:00+01:00", 7 + 4 * k);
            app.score(&cm, "H-0001", "slachtoffer", *v, &at).await.expect(StatusCode::CREATED);
            app.score(&cm, "H-0001", "casemanager", 7, &at).await.expect(StatusCode::CREATED);
        }
        app.tick().await;
        assert_eq!(app.count("alerts").await, 0, "no alert, no work-list item, no notification");
        assert_eq!(app.count("notifications").await, 0);
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let (status, html) = open(&app, &session, "/huishoudens/H-0001").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<h2>Observaties</h2>"), "{html}");
        assert!(html.contains("<strong>Dalende trend</strong> (Slachtoffer): De veiligheidsscores van dit perspectief dalen"), "{html}");
        let (_, queue) = open(&app, &session, "/waarschuwingen").await;
        assert!(!queue.contains("Dalende trend"), "{queue}");
        // Without the fall the page has no observations at all.
        app.household("H-0002", Some("rg1"), &["cm1"]).await;
        app.score(&cm, "H-0002", "slachtoffer", 7, "2025-01-28T10:00:00+01:00").await.expect(StatusCode::CREATED);
        let (_, html) = open(&app, &session, "/huishoudens/H-0002").await;
        assert!(!html.contains("Observaties"), "{html}");
    }

    async fn opening_an_alert_reads_its_messages_and_alles_gelezen_reads_all(app: TestApp) {
        let cm = app.user("cm1", "casemanager").await;
        with_password(&app, "rg1", "regisseur").await;
        with_password(&app, "sp-bzo", "specialist").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.household("H-0002", Some("rg1"), &["cm1"]).await;
        for h in ["H-0001", "H-0002"] {
            app.score(&cm, h, "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
            app.score(&cm, h, "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        }
        let first = app.scalar("SELECT id FROM alerts WHERE household_id = 'H-0001' AND rule = 'uiteenlopende-scores'").await;
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let (_, inbox) = open(&app, &session, "/berichten").await;
        assert!(inbox.contains("Berichten (2<span class=\"wide\"> ongelezen</span>)"), "{inbox}");
        let item = format!("<a href=\"/waarschuwingen/{first}\">Uiteenlopende scores bij <span class=\"id\">H-0001</span></a>");
        assert!(inbox.contains(&item), "{inbox}");

        // Opening the alert reads its message; the header says so at once.
        let (_, page) = open(&app, &session, &format!("/waarschuwingen/{first}")).await;
        assert!(page.contains("Berichten (1<span class=\"wide\"> ongelezen</span>)"), "{page}");
        let unread = "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = 'rg1' AND n.read_at_ms IS NULL";
        assert_eq!(app.scalar(unread).await, 1);

        // "Alles gelezen" needs the session's CSRF token, then reads the rest.
        let post = |csrf: String| {
            let (url, session) = (app.url("/berichten/gelezen"), session.clone());
            async move { browser().post(url).header("cookie", &session).form(&[("csrf", csrf)]).send().await.unwrap() }
        };
        assert_eq!(post("geraden".into()).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.scalar(unread).await, 1);
        let csrf = page_csrf(&app, &session, "/berichten").await;
        let done = post(csrf).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        assert_eq!(done.headers()["location"], "/berichten");
        assert_eq!(app.scalar(unread).await, 0);
        let (_, inbox) = open(&app, &session, "/berichten").await;
        assert!(!inbox.contains("ongelezen") && !inbox.contains("Nieuw:") && !inbox.contains("Alles gelezen"), "{inbox}");

        // The specialist pool is named no household it is not consulted on (issue 11).
        app.at("2025-03-03T00:00:00+01:00");
        app.tick().await;
        let specialist = sign_in(&app, "sp-bzo", PASSWORD).await.unwrap();
        let (status, inbox) = open(&app, &specialist, "/berichten").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!inbox.contains("H-0001") && inbox.contains("Geen berichten."), "{inbox}");
    }

    async fn every_count_of_open_alerts_agrees(app: TestApp) {
        let cm = with_password(&app, "cm1", "casemanager").await;
        let rg = with_password(&app, "rg1", "regisseur").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.score(&cm, "H-0001", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.post(&cm, "/api/v1/households/H-0001/signals",
            serde_json::json!({"at": "2025-01-06T10:00:00+01:00", "kind": "melding", "source": "politie", "acute": false}))
            .await.expect(StatusCode::CREATED);
        // No visit since: week 6's question is answered at week 8 at the latest.
        app.at("2025-03-03T00:00:00+01:00");
        app.tick().await;
        // One decided (handled) and one pause (handled): neither is open any more.
        let divergence = app.scalar("SELECT id FROM alerts WHERE rule = 'uiteenlopende-scores'").await;
        app.post(&rg, &format!("/api/v1/alerts/{divergence}/acknowledge"),
            serde_json::json!({"decision": "geen_actie", "reason": "Gesprek gevoerd."})).await.expect(StatusCode::OK);
        let no_safety = app.scalar("SELECT id FROM alerts WHERE rule = 'geen-directe-veiligheid'").await;
        app.post(&rg, &format!("/api/v1/alerts/{no_safety}/silence"),
            serde_json::json!({"reason": "Wacht op het plan.", "until": "2025-03-15"})).await.expect(StatusCode::OK);

        let api = app.alerts(&rg, "&household=H-0001&state=firing").await.len();
        assert!(api >= 2, "a reminder and a one-shot stay open: {api}");
        let regisseur = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let casemanager = sign_in(&app, "cm1", PASSWORD).await.unwrap();
        for session in [&regisseur, &casemanager] {
            let (_, queue) = open(&app, session, "/waarschuwingen?huishouden=H-0001").await;
            let shown = queue_of(&queue);
            assert_eq!(shown.len(), 1);
            assert_eq!(shown[0].1.len(), api, "the queue: {queue}");
            assert!(queue.contains(&format!("Open ({api})")), "{queue}");
            assert!(queue.contains(&format!("· {api} open")), "{queue}");
            let (_, page) = open(&app, session, "/huishoudens/H-0001").await;
            let listed = page.split("Open waarschuwingen").nth(1).unwrap().split("<h2").next().unwrap();
            assert_eq!(listed.matches("class=\"badge ").count(), api, "the household page: {listed}");
            let (_, list) = open(&app, session, "/huishoudens").await;
            assert!(list.contains(&format!("<strong>{api}</strong>")), "the household list: {list}");
        }
        let (_, handled) = open(&app, &regisseur, "/waarschuwingen?tab=afgehandeld").await;
        assert_eq!(queue_of(&handled), [("H-0001".to_owned(), vec![no_safety, divergence])]);
    }
}

/// Posts a form as a signed-in user.
async fn post_form(
    app: &TestApp,
    session: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    browser()
        .post(app.url(path))
        .header("cookie", session)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn get_page(app: &TestApp, session: &str, path: &str) -> reqwest::Response {
    browser()
        .get(app.url(path))
        .header("cookie", session)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

/// The page's `<title>`.
fn title(html: &str) -> &str {
    html.split("<title>")
        .nth(1)
        .unwrap()
        .split("</title>")
        .next()
        .unwrap()
}

both! {
    async fn the_event_forms_refuse_what_the_api_refuses_in_dutch(app: TestApp) {
        with_password(&app, "petra", "casemanager").await;
        app.household("H-0001", None, &["petra"]).await;
        let session = sign_in(&app, "petra", PASSWORD).await.unwrap();
        let csrf = page_csrf(&app, &session, "/huishoudens/H-0001/score").await;
        let score = |at: &'static str| {
            let (session, csrf) = (session.clone(), csrf.clone());
            let app = &app;
            async move {
                post_form(app, &session, "/huishoudens/H-0001/score", &[
                    ("csrf", &csrf), ("perspective", "slachtoffer"), ("value", "4"), ("at", at),
                ]).await
            }
        };
        // Before the trajectory opened, or next year: refused, said in Dutch, focus on the summary.
        let early = score("2019-05-01T10:00").await;
        assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = early.text().await.unwrap();
        assert!(html.contains("Dit moment ligt vóór de start van het traject (06-01-2025)."), "{html}");
        assert!(title(&html).starts_with("Fout: Score vastleggen"), "{}", title(&html));
        assert!(html.contains("tabindex=\"-1\" autofocus"), "the summary takes the focus");
        let late = score("2026-01-06T10:00").await;
        assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(late.text().await.unwrap().contains("Dit moment ligt in de toekomst."));
        assert_eq!(app.count("events").await, 0);
        assert_eq!(score("2025-01-06T09:30").await.status(), StatusCode::SEE_OTHER);
        // The form shows the previous score of each perspective, with its date.
        let form = get_page(&app, &session, "/huishoudens/H-0001/score").await.text().await.unwrap();
        assert!(form.contains("Vorige score per perspectief"), "{form}");
        assert!(form.contains("data-label=\"Score\">4</td><td>06-01-2025</td>"), "{form}");

        let event = |fields: Vec<(&'static str, &'static str)>| {
            let (session, csrf) = (session.clone(), csrf.clone());
            let app = &app;
            async move {
                let mut all = vec![("csrf", csrf.as_str())];
                all.extend(fields);
                post_form(app, &session, "/huishoudens/H-0001/gebeurtenis", &all).await
            }
        };
        let no_description = event(vec![("type", "intervention"), ("at", "2025-01-06T09:00")]).await;
        assert_eq!(no_description.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_description.text().await.unwrap().contains("Beschrijf wat er als interventie wordt ingezet."));
        let no_reason = event(vec![("type", "closure"), ("at", "2025-01-06T09:00")]).await;
        assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_reason.text().await.unwrap().contains("Geef aan waarom het traject wordt afgesloten."));
        // With a reason: first the question, with what closing means; nothing stored yet.
        let closing = vec![("type", "closure"), ("at", "2025-01-06T09:00"), ("text", "Cliënten willen geen hulp.")];
        let ask = event(closing.clone()).await;
        assert_eq!(ask.status(), StatusCode::OK);
        let html = ask.text().await.unwrap();
        assert!(html.contains("Weet u het zeker?") && html.contains("Voortijdig loslaten"), "{html}");
        assert!(html.contains("value=\"Cliënten willen geen hulp.\""), "the reason travels along");
        assert_eq!(app.count("events").await, 1);
        // "No": back to the form, as it was typed.
        let mut no = closing.clone();
        no.push(("bevestigd", "nee"));
        let back = event(no).await.text().await.unwrap();
        assert!(back.contains("Cliënten willen geen hulp.</textarea>"), "{back}");
        assert_eq!(app.count("events").await, 1);
        let mut yes = closing.clone();
        yes.push(("bevestigd", "ja"));
        assert_eq!(event(yes).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE type = 'closure'").await, 1);
        // Closed: the form offers a reopen, not a second closure.
        let form = get_page(&app, &session, "/huishoudens/H-0001/gebeurtenis").await.text().await.unwrap();
        assert!(form.contains("value=\"reopen\"") && !form.contains("value=\"closure\""));
    }

    async fn the_report_form_refuses_a_date_in_the_future(app: TestApp) {
        with_password(&app, "woonbedrijf", "signal_reporter").await;
        let mut h = crate::helpers::household_json("H-0001");
        h["reference"] = serde_json::json!("VT-2025-001");
        app.post(&app.admin_token, "/api/v1/households", h).await.expect(StatusCode::CREATED);
        let session = sign_in(&app, "woonbedrijf", PASSWORD).await.unwrap();
        let csrf = page_csrf(&app, &session, "/melden").await;
        for reference in ["VT-2025-001", "VT-1999-999"] {
            let reply = post_form(&app, &session, "/melden", &[
                ("csrf", &csrf), ("reference", reference), ("kind", "zorgsignaal"),
                ("source", "woningcorporatie"), ("at", "2026-01-06T10:00"),
            ]).await;
            assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let html = reply.text().await.unwrap();
            assert!(html.contains("Dit moment ligt in de toekomst."), "{html}");
            assert!(title(&html).starts_with("Fout: "));
        }
        assert_eq!(app.count("signal_reports").await, 0);
        assert_eq!(app.count("events").await, 0);
    }

    async fn refusals_and_unknown_pages_keep_the_navigation(app: TestApp) {
        with_password(&app, "petra", "casemanager").await;
        with_password(&app, "aov-eindhoven", "gemeente_monitor").await;
        app.household("H-0001", None, &["petra"]).await;
        let petra = sign_in(&app, "petra", PASSWORD).await.unwrap();
        for (path, status, heading) in [
            ("/huishoudens/H-9999", StatusCode::NOT_FOUND, "Niet gevonden"),
            ("/huishoudens/H-0001/onzin", StatusCode::NOT_FOUND, "Niet gevonden"),
            ("/bestaat-niet", StatusCode::NOT_FOUND, "Niet gevonden"),
            ("/gemeente", StatusCode::FORBIDDEN, "Geen toegang"),
        ] {
            let reply = get_page(&app, &petra, path).await;
            assert_eq!(reply.status(), status, "{path}");
            let html = reply.text().await.unwrap();
            assert!(html.contains(heading), "{path}: {html}");
            assert!(html.contains("href=\"/huishoudens\"") && html.contains("Uitloggen"), "{path}: no navigation: {html}");
        }
        let monitor = sign_in(&app, "aov-eindhoven", PASSWORD).await.unwrap();
        let html = get_page(&app, &monitor, "/huishoudens/H-0001").await.text().await.unwrap();
        assert!(html.contains("Niet gevonden") && html.contains("href=\"/gemeente\""), "{html}");
        // A forged form is refused with the navigation too; without a session there is none.
        let forged = post_form(&app, &petra, "/huishoudens/H-0001/score", &[("csrf", "geraden")]).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(forged.text().await.unwrap().contains("Uitloggen"));
        let anonymous = browser().get(app.url("/bestaat-niet")).header("accept", "text/html").send().await.unwrap();
        assert!(!anonymous.text().await.unwrap().contains("Uitloggen"));
    }

    async fn the_timeline_pages_and_filters_whatever_it_is_asked(app: TestApp) {
        with_password(&app, "petra", "casemanager").await;
        app.household("H-0001", None, &["petra"]).await;
        let cm = app.user("cm-api", "casemanager").await;
        app.put(&app.admin_token, "/api/v1/households/H-0001/assignments",
            serde_json::json!({"casemanagers": ["petra", "cm-api"]})).await.expect(StatusCode::OK);
        app.at("2025-03-01T12:00:00+01:00");
        for day in 0..45 {
            let at = format!("2025-01-{:02}T10:00:00+01:00", 6 + day % 25);
            let perspective = if day < 25 { "slachtoffer" } else { "casemanager" };
            app.score(&cm, "H-0001", perspective, 5, &at).await.expect(StatusCode::CREATED);
        }
        app.record(&cm, "H-0001", serde_json::json!({"type":"signal","at":"2025-02-01T22:00:00+01:00","kind":"melding","source":"politie","acute":true}))
            .await.expect(StatusCode::CREATED);
        let session = sign_in(&app, "petra", PASSWORD).await.unwrap();
        for (query, shows) in [
            ("", "Alles, nieuwste eerst: 46 in totaal, pagina 1 van 3"),
            ("?pagina=2", "pagina 2 van 3"),
            ("?pagina=0", "pagina 1 van 3"),
            ("?pagina=-4", "pagina 1 van 3"),
            ("?pagina=twee", "pagina 1 van 3"),
            ("?pagina=99999999999999999999999999", "pagina 3 van 3"),
            ("?soort=signaal", "Signalen, nieuwste eerst: 1 in totaal"),
            ("?soort=score&pagina=3", "Scores, nieuwste eerst: 45 in totaal, pagina 3 van 3"),
            ("?soort=roddel", "Die soort bestaat niet"),
            ("?soort=consultatie", "Niets van deze soort vastgelegd."),
            ("?soort=&pagina=&opgeslagen=", "pagina 1 van 3"),
        ] {
            let reply = get_page(&app, &session, &format!("/huishoudens/H-0001{query}")).await;
            assert_eq!(reply.status(), StatusCode::OK, "{query}");
            let html = reply.text().await.unwrap();
            assert!(html.contains(shows), "{query}: {html}");
        }
        // The pager keeps the filter.
        let html = get_page(&app, &session, "/huishoudens/H-0001?soort=score").await.text().await.unwrap();
        assert!(html.contains("href=\"/huishoudens/H-0001?soort=score&amp;pagina=2#tijdlijn\""), "{html}");
    }
}
