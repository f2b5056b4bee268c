//! Browser tests: the web pages in headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver. A casemanager records a score that makes an alert fire, the regisseur
//! sees it and records a decision, a gemeente monitor is refused the household page, and a bad
//! value shows its Dutch error. Every page the tests look at is checked as [`screenshot`] says
//! (axe-core, unique ids, no sideways scrolling on a phone) and saved, whole, to
//! `target/tmp/screenshots`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use zicht::clock::ManualClock;
use zicht::config::Settings;
use zicht::http::App;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const PASSWORD: &str = "correct-paard-batterij";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver and a headless Chromium session, or says why not: a failure in CI, a
/// loud skip elsewhere.
async fn browser() -> Option<(Driver, Client)> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but {CHROMEDRIVER} is missing: .ci/run installs chromium and chromium-driver"
            );
        }
        eprintln!(
            "SKIPPED browser test: install Debian's chromium and chromium-driver (see README.md)"
        );
        return None;
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1024,1400", "--lang=nl-NL"]
        }
    }))
    .unwrap();
    // Wait for chromedriver to accept connections (it starts in well under a second).
    let mut last = None;
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

struct Site {
    base: String,
    admin: String,
    state: Arc<zicht::app::AppState>,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        database_url: None,
        alerts_dir: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("alerts"),
        max_body_bytes: 64 * 1024,
        db_pool_size: 4,
        log_json: false,
        cookie_secure: true,
    };
    let clock = ManualClock::new("2025-01-06T12:00:00+01:00".parse().unwrap());
    let app = App::build(settings, Arc::new(clock.clone())).await.unwrap();
    let base = format!("http://{}", app.addr);
    let admin = app.admin_token.clone().unwrap();
    let state = app.state.clone();
    tokio::spawn(app.run(std::future::pending()));
    Site {
        base,
        admin,
        state,
        clock,
        _dir: dir,
    }
}

impl Site {
    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let reply = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        reply.json().await.unwrap_or(serde_json::Value::Null)
    }

    /// Records an event in the interchange format; `type` says which endpoint takes it.
    async fn record(&self, token: &str, household: &str, body: serde_json::Value) {
        let path = match body["type"].as_str() {
            Some("score") => "scores",
            Some("signal") => "signals",
            _ => "events",
        };
        let path = format!("/api/v1/households/{household}/{path}");
        self.api(reqwest::Method::POST, &path, token, body).await;
    }

    /// A user with a web password (and an API token, returned).
    async fn user(&self, name: &str, role: &str, extra: serde_json::Value) -> String {
        let mut body = json!({"username": name, "role": role});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let user = self
            .api(reqwest::Method::POST, "/api/v1/users", &self.admin, body)
            .await;
        let id = user["id"].as_i64().unwrap();
        let mut conn = self.state.db.acquire().await.unwrap();
        zicht::store::sessions::set_password_hash(
            &mut conn,
            id,
            &zicht::auth::hash_password(PASSWORD),
        )
        .await
        .unwrap();
        let token = self
            .api(
                reqwest::Method::POST,
                &format!("/api/v1/users/{id}/tokens"),
                &self.admin,
                json!({"name":"t"}),
            )
            .await;
        token["secret"].as_str().unwrap().to_owned()
    }
}

/// axe-core, vendored from npm (see `vendor/axe-core/README.md`) and injected over WebDriver: the
/// page's CSP governs the page's own scripts, not one the driver runs.
const AXE: &str = include_str!("vendor/axe-core/axe.min.js");

/// The axe-core violations on the page, one line each (rule, impact, where, why).
async fn axe_violations(client: &Client) -> Vec<String> {
    let loaded = client
        .execute("return typeof window.axe === 'object';", vec![])
        .await
        .unwrap();
    if loaded != json!(true) {
        client.execute(AXE, vec![]).await.unwrap();
    }
    let result = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ['violations'] })
                 .then(r => done(r.violations.flatMap(v => v.nodes.map(n =>
                     v.id + ' (' + v.impact + '): ' + n.target.join(' ') + ' — ' + n.failureSummary))))
                 .catch(e => done(['axe failed: ' + e]));"#,
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(result).unwrap()
}

/// Ids used more than once on the page.
async fn duplicate_ids(client: &Client) -> Vec<String> {
    let result = client
        .execute(
            r#"const seen = {}; const twice = [];
               for (const e of document.querySelectorAll('[id]')) {
                 if (seen[e.id] && !twice.includes(e.id)) twice.push(e.id);
                 seen[e.id] = true;
               }
               return twice;"#,
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(result).unwrap()
}

async fn page_number(client: &Client, expression: &str) -> i64 {
    client
        .execute(&format!("return Math.ceil({expression});"), vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

/// Checks what every page must hold, as a desktop (1280 px) and a phone (390 px) show it — no
/// axe-core violation, no id used twice, and on the phone no sideways scrolling — and saves the
/// whole page at both widths.
async fn screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let twice = duplicate_ids(client).await;
    assert!(twice.is_empty(), "{name}: ids used twice: {twice:?}");
    for (suffix, width, height) in [("", 1280, 900), ("-390", 390, 844)] {
        client.set_window_size(width, height).await.unwrap();
        if width == 390 {
            let wide = page_number(client, "document.documentElement.scrollWidth").await;
            let viewport = page_number(client, "window.innerWidth").await;
            assert!(
                wide <= viewport,
                "{name}: the page scrolls sideways on a phone ({wide} px in {viewport} px)"
            );
        }
        let violations = axe_violations(client).await;
        assert!(
            violations.is_empty(),
            "{name} at {width} px: axe-core finds\n{}",
            violations.join("\n")
        );
        // The whole page, not only the first screen.
        let tall = page_number(client, "document.documentElement.scrollHeight").await;
        let tall = u32::try_from(tall).unwrap_or(height).clamp(height, 12_000);
        client.set_window_size(width, tall).await.unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}{suffix}.png")), png).unwrap();
    }
    client.set_window_size(1280, 900).await.unwrap();
}

async fn login(client: &Client, base: &str, username: &str) {
    client.goto(&format!("{base}/inloggen")).await.unwrap();
    client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits (up to 10 s) until the browser is on a page whose path ends with `suffix`: the page a
/// submit leads to may still be loading when the click returns.
async fn arrive(client: &Client, suffix: &str) {
    for _ in 0..200 {
        if client.current_url().await.unwrap().path().ends_with(suffix) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "never arrived at …{suffix}: at {}",
        client.current_url().await.unwrap()
    );
}

/// Waits (up to 10 s) for an element, then returns it.
/// Chooses `value` in the select with id `id`.
async fn choose(client: &Client, id: &str, value: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

/// Types `text` into the field with id `id`.
async fn type_into(client: &Client, id: &str, text: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
}

async fn logout(client: &Client) {
    client
        .find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(client, "/inloggen").await;
}

async fn text(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn casemanager_records_a_score_and_the_regisseur_decides() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let site = site().await;
    let cm = site.user("petra", "casemanager", json!({})).await;
    site.user("rik", "regisseur", json!({})).await;
    site.user(
        "aov-eindhoven",
        "gemeente_monitor",
        json!({"gemeente": "Eindhoven"}),
    )
    .await;
    site.api(reqwest::Method::POST, "/api/v1/households", &site.admin, json!({
        "id": "H-0001", "region": "brabant-zuidoost", "gemeente": "Eindhoven", "wijk": "Woensel-Noord",
        "minor_children": false, "opened_at": "2025-01-06"
    })).await;
    site.api(
        reqwest::Method::PUT,
        "/api/v1/households/H-0001/assignments",
        &site.admin,
        json!({"regisseur": "rik", "casemanagers": ["petra"]}),
    )
    .await;
    site.api(
        reqwest::Method::POST,
        "/api/v1/households/H-0001/scores",
        &cm,
        json!({"at": "2025-01-06T10:00:00+01:00", "perspective": "professional", "value": 8}),
    )
    .await;

    // The casemanager: a wrong value gets a Dutch error next to the field, with the typed values kept.
    login(&client, &site.base, "petra").await;
    arrive(&client, "/huishoudens").await;
    assert!(text(&client).await.contains("H-0001"));
    screenshot(&client, "1-mijn-huishoudens").await;
    client
        .goto(&format!("{}/huishoudens/H-0001/score", site.base))
        .await
        .unwrap();
    choose(&client, "perspective", "slachtoffer").await;
    type_into(&client, "value", "11").await;
    client
        .find(Locator::Css("form[action$='/score'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = element(&client, "#value-fout").await.text().await.unwrap();
    assert_eq!(error, "Vul een heel getal in van 0 tot en met 10.");
    assert_eq!(
        client
            .find(Locator::Id("value"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("11")
    );
    screenshot(&client, "2-score-formulier-fout").await;

    // A valid score: the victim far below the professional makes uiteenlopende-scores fire.
    let value = client.find(Locator::Id("value")).await.unwrap();
    value.clear().await.unwrap();
    value.send_keys("4").await.unwrap();
    client
        .find(Locator::Css("form[action$='/score'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    element(&client, ".notice").await;
    let page = text(&client).await;
    assert!(page.contains("De score is opgeslagen."), "{page}");
    assert!(page.contains("Uiteenlopende scores"), "{page}");
    assert!(client.find(Locator::Css("figure svg")).await.is_ok());
    screenshot(&client, "3-situatieplaat").await;
    logout(&client).await;

    // The regisseur sees it, with its advice, and records a decision.
    login(&client, &site.base, "rik").await;
    arrive(&client, "/waarschuwingen").await;
    let page = text(&client).await;
    assert!(page.contains("Uiteenlopende scores — H-0001"), "{page}");
    assert!(page.contains("slachtoffer apart"), "{page}");
    screenshot(&client, "4-waarschuwingen").await;
    client
        .find(Locator::LinkText("Uiteenlopende scores — H-0001"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    element(&client, "#decision").await;
    choose(&client, "decision", "actieoverleg").await;
    type_into(
        &client,
        "reason",
        "Besproken in het Actieoverleg van dinsdag.",
    )
    .await;
    client
        .find(Locator::Css(
            "form[action$='/afhandelen'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Back on the open work, with a confirmation; the decided alert has left it.
    element(&client, ".notice").await;
    let page = text(&client).await;
    assert!(
        page.contains("Uw besluit is vastgelegd: Uiteenlopende scores — H-0001."),
        "{page}"
    );
    assert!(page.contains("Open (0)"), "{page}");
    assert!(
        client
            .find(Locator::LinkText("Uiteenlopende scores — H-0001"))
            .await
            .is_err()
    );
    screenshot(&client, "5-besluit-bevestigd").await;
    // On the Afgehandeld tab, with its history and no decision forms left.
    client
        .find(Locator::LinkText("Afgehandeld"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    element(&client, "article h2 a").await;
    client
        .find(Locator::LinkText("Uiteenlopende scores — H-0001"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    element(&client, "ol li:nth-child(2)").await;
    let page = text(&client).await;
    assert!(page.contains("afgehandeld"), "{page}");
    assert!(
        page.contains("besluit vastgelegd door rik: Actieoverleg"),
        "{page}"
    );
    assert!(
        client.find(Locator::Id("decision")).await.is_err(),
        "no forms on a decided alert"
    );
    screenshot(&client, "5-waarschuwing-afgehandeld").await;
    client
        .goto(&format!("{}/berichten", site.base))
        .await
        .unwrap();
    element(&client, "h1").await;
    let page = text(&client).await;
    assert!(page.contains("Uiteenlopende scores bij H-0001"), "{page}");
    screenshot(&client, "5b-berichten").await;

    // The regisseur records step 3 of the escalation ladder, with its reason.
    client
        .goto(&format!("{}/huishoudens/H-0001/gebeurtenis", site.base))
        .await
        .unwrap();
    element(&client, "#type").await;
    choose(&client, "type", "escalation").await;
    choose(&client, "step", "3").await;
    type_into(
        &client,
        "text",
        "Geweld is niet te stoppen; proactief scenario volgt.",
    )
    .await;
    screenshot(&client, "5c-trede-vastleggen").await;
    client
        .find(Locator::Css(
            "form[action$='/gebeurtenis'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    element(&client, ".notice").await;
    let page = text(&client).await;
    assert!(page.contains("Trede 3 · geweld niet te stoppen"), "{page}");
    screenshot(&client, "5d-situatieplaat-trede-3").await;
    logout(&client).await;

    // The gemeente monitor sees aggregates, never the household.
    login(&client, &site.base, "aov-eindhoven").await;
    arrive(&client, "/gemeente").await;
    let page = text(&client).await;
    assert!(
        page.contains("Structurele onveiligheid in Eindhoven"),
        "{page}"
    );
    assert!(!page.contains("H-0001"), "{page}");
    screenshot(&client, "6-gemeente").await;
    client
        .goto(&format!("{}/huishoudens/H-0001", site.base))
        .await
        .unwrap();
    let page = text(&client).await;
    assert!(page.contains("Niet gevonden"), "{page}");
    assert!(!page.contains("Woensel-Noord"), "{page}");
    client.close().await.unwrap();
}

/// Sets a form field's value as a person would type it (a `datetime-local` field takes keys in
/// the browser's locale, so this sets the value the form sends).
async fn set_value(client: &Client, id: &str, value: &str) {
    client
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![json!(id), json!(value)],
        )
        .await
        .unwrap();
}

async fn submit(client: &Client, form_action_suffix: &str) {
    client
        .find(Locator::Css(&format!(
            "form[action$='{form_action_suffix}'] button[type=submit]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// After a failed submit: "Fout: " in the title and the focus on the error summary.
async fn failed(client: &Client, name: &str) {
    element(client, ".summary").await;
    let title = client.title().await.unwrap();
    assert!(title.starts_with("Fout: "), "{name}: title {title}");
    let mut focused = String::new();
    for _ in 0..40 {
        focused = client
            .execute("return document.activeElement.className;", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if focused.contains("summary") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        focused.contains("summary"),
        "{name}: the focus is on `{focused}`, not on the error summary"
    );
}

#[tokio::test]
async fn a_household_with_history_reads_on_a_phone_and_its_forms_guard_the_facts() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let site = site().await;
    let cm = site.user("petra", "casemanager", json!({})).await;
    site.user("woonbedrijf", "signal_reporter", json!({})).await;
    site.user(
        "aov-eindhoven",
        "gemeente_monitor",
        json!({"gemeente": "Eindhoven"}),
    )
    .await;
    site.api(reqwest::Method::POST, "/api/v1/households", &site.admin, json!({
        "id": "H-0002", "reference": "VT-2025-0002", "region": "brabant-zuidoost", "gemeente": "Eindhoven",
        "wijk": "Strijp", "minor_children": true, "opened_at": "2025-01-06"
    })).await;
    site.api(
        reqwest::Method::PUT,
        "/api/v1/households/H-0002/assignments",
        &site.admin,
        json!({"casemanagers": ["petra"]}),
    )
    .await;
    // Twenty weeks of work, recorded as it happened.
    site.clock.set("2025-05-26T12:00:00+02:00".parse().unwrap());
    let record = |body: serde_json::Value| site.record(&cm, "H-0002", body);
    // The melding that opened the trajectory came before it: signals may precede T0.
    record(json!({"type":"signal","at":"2025-01-03T22:10:00+01:00","kind":"melding","source":"politie","acute":true})).await;
    let victim = [3, 3, 4, 4, 5, 4, 3, 4, 5, 5, 5];
    for (i, v) in victim.iter().enumerate() {
        let day = jiff::civil::date(2025, 1, 6)
            .checked_add(jiff::Span::new().days(14 * i as i64))
            .unwrap();
        let at = zicht::domain::LocalDate::new(day).start().timestamp()
            + jiff::SignedDuration::from_hours(10);
        let at = zicht::domain::Instant::from_timestamp(at).to_wire();
        record(json!({"type":"score","at":at,"perspective":"slachtoffer","value":v,"reason":"gesprek"})).await;
        record(json!({"type":"score","at":at,"perspective":"casemanager","value":v + 2,"reason":"huisbezoek"})).await;
        if i % 2 == 0 {
            record(json!({"type":"score","at":at,"perspective":"professional","value":(v + 3).min(10),"reason":"wijkteam"})).await;
        }
        if i % 3 == 1 {
            record(json!({"type":"score","at":at,"perspective":"pleger","value":v + 4,"reason":"eigen inschatting"})).await;
        }
    }
    record(
        json!({"type":"score","at":"2025-03-03T19:00:00+01:00","perspective":"netwerk","value":5}),
    )
    .await;
    record(json!({"type":"intervention","at":"2025-02-10T09:00:00+01:00","description":"Start traumabehandeling slachtoffer","effect_expected_by":"2025-04-01"})).await;
    record(json!({"type":"signal","at":"2025-02-20T11:00:00+01:00","kind":"zorgsignaal","source":"huisarts","acute":false})).await;
    record(json!({"type":"signal","at":"2025-03-15T23:40:00+01:00","kind":"politie_incident","source":"politie","acute":true})).await;
    record(json!({"type":"escalation","at":"2025-03-17T09:00:00+01:00","step":2,"reason":"Bijschalen: GGZ voor de pleger"})).await;
    record(json!({"type":"signal","at":"2025-04-22T16:00:00+02:00","kind":"melding","source":"wijkagent","acute":false})).await;

    // A wrong password: the error takes the focus and the title says so.
    client
        .goto(&format!("{}/inloggen", site.base))
        .await
        .unwrap();
    type_into(&client, "username", "petra").await;
    type_into(&client, "password", "fout-wachtwoord").await;
    submit(&client, "/inloggen").await;
    failed(&client, "inloggen").await;
    screenshot(&client, "0-inloggen-fout").await;

    login(&client, &site.base, "petra").await;
    arrive(&client, "/huishoudens").await;
    client
        .goto(&format!("{}/huishoudens/H-0002", site.base))
        .await
        .unwrap();
    element(&client, "figure svg").await;
    let page = text(&client).await;
    for shown in [
        "Laatste score per perspectief",
        "Slachtoffer",
        "Pleger",
        "Netwerk",
        "signaal, acuut onveilig",
        "Trede 2",
        "pagina 1 van 2",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    screenshot(&client, "7-situatieplaat-met-geschiedenis").await;
    // On a phone the chart keeps its size and scrolls sideways in its own box.
    client.set_window_size(390, 844).await.unwrap();
    let chart = page_number(
        &client,
        "document.querySelector('.chart-scroll svg').getBoundingClientRect().width",
    )
    .await;
    assert!(chart >= 600, "the chart is {chart} px wide on a phone");
    client.set_window_size(1280, 900).await.unwrap();

    // The timeline, filtered and paged by its GET parameters; nonsense gives a page that exists.
    client
        .goto(&format!("{}/huishoudens/H-0002?soort=signaal", site.base))
        .await
        .unwrap();
    let page = text(&client).await;
    assert!(
        page.contains("Signalen, nieuwste eerst: 4 in totaal"),
        "{page}"
    );
    assert!(!page.contains("Score slachtoffer"), "{page}");
    screenshot(&client, "8-tijdlijn-signalen").await;
    client
        .goto(&format!(
            "{}/huishoudens/H-0002?soort=roddel&pagina=99999999999999999999999",
            site.base
        ))
        .await
        .unwrap();
    let page = text(&client).await;
    assert!(page.contains("Die soort bestaat niet"), "{page}");
    assert!(page.contains("pagina 2 van 2"), "{page}");

    // The score form shows the previous score of each perspective; a date before the
    // trajectory opened is refused, in Dutch, with the focus on the error.
    client
        .goto(&format!("{}/huishoudens/H-0002/score", site.base))
        .await
        .unwrap();
    let page = text(&client).await;
    assert!(page.contains("Vorige score per perspectief"), "{page}");
    assert!(page.contains("26-05-2025"), "{page}");
    screenshot(&client, "9-score-formulier").await;
    choose(&client, "perspective", "slachtoffer").await;
    type_into(&client, "value", "5").await;
    set_value(&client, "at", "2019-05-01T10:00").await;
    submit(&client, "/score").await;
    failed(&client, "score vóór de start").await;
    let error = element(&client, "#at-fout").await.text().await.unwrap();
    assert!(
        error.contains("vóór de start van het traject (06-01-2025)"),
        "{error}"
    );
    screenshot(&client, "9b-score-formulier-fout").await;

    // Closing needs a reason and a second, informed yes.
    client
        .goto(&format!("{}/huishoudens/H-0002/gebeurtenis", site.base))
        .await
        .unwrap();
    choose(&client, "type", "closure").await;
    submit(&client, "/gebeurtenis").await;
    failed(&client, "afsluiten zonder reden").await;
    assert!(
        text(&client)
            .await
            .contains("Geef aan waarom het traject wordt afgesloten.")
    );
    screenshot(&client, "10-afsluiten-zonder-reden").await;
    type_into(&client, "text", "Cliënten willen geen hulp meer.").await;
    submit(&client, "/gebeurtenis").await;
    element(&client, "button[value=ja]").await;
    let page = text(&client).await;
    assert!(page.contains("Weet u het zeker?"), "{page}");
    assert!(page.contains("Voortijdig loslaten"), "{page}");
    screenshot(&client, "11-afsluiten-bevestigen").await;
    client
        .find(Locator::Css("button[value=ja]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    element(&client, ".notice").await;
    let page = text(&client).await;
    assert!(page.contains("Fase: afgesloten"), "{page}");
    client
        .goto(&format!("{}/huishoudens/H-0002/gebeurtenis", site.base))
        .await
        .unwrap();
    let options = text(&client).await;
    assert!(options.contains("Traject heropenen") && !options.contains("Traject afsluiten"));
    screenshot(&client, "12-gebeurtenis-formulier").await;
    client
        .goto(&format!("{}/huishoudens/H-0002/signaal", site.base))
        .await
        .unwrap();
    element(&client, "#kind").await;
    screenshot(&client, "12b-signaal-formulier").await;
    logout(&client).await;

    // Refused or unknown: a Dutch page with the user's own navigation.
    login(&client, &site.base, "aov-eindhoven").await;
    arrive(&client, "/gemeente").await;
    for path in ["/huishoudens/H-0002", "/bestaat-niet"] {
        client.goto(&format!("{}{path}", site.base)).await.unwrap();
        let page = text(&client).await;
        assert!(page.contains("Niet gevonden"), "{path}: {page}");
        assert!(
            page.contains("Mijn gemeente"),
            "{path}: no navigation: {page}"
        );
    }
    screenshot(&client, "13-niet-gevonden").await;
    logout(&client).await;

    // The signal reporter cannot date a concern next year; nothing is stored.
    login(&client, &site.base, "woonbedrijf").await;
    arrive(&client, "/melden").await;
    screenshot(&client, "14-melden").await;
    type_into(&client, "reference", "VT-2025-0002").await;
    choose(&client, "kind", "zorgsignaal").await;
    choose(&client, "source", "woningcorporatie").await;
    set_value(&client, "at", "2026-05-26T10:00").await;
    submit(&client, "/melden").await;
    failed(&client, "melding in de toekomst").await;
    assert!(
        text(&client)
            .await
            .contains("Dit moment ligt in de toekomst.")
    );
    screenshot(&client, "14b-melden-fout").await;
    let mut conn = site.state.db.acquire().await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signal_reports")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(stored, 0, "a refused report is not stored");
    client.close().await.unwrap();
}
