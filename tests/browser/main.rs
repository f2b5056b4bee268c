//! Browser tests: the web pages in headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver. A casemanager records a score that makes an alert fire and sees the
//! reminders on their work queue, the regisseur finds the alert in theirs and records a decision
//! (confirmed, gone from the queue, on the Afgehandeld tab) after seeing a new one arrive live,
//! opens the casusoverleg agenda and its print view, a gemeente monitor is refused the
//! household page, and a bad value shows its Dutch error. Every page the tests look at is checked
//! as [`screenshot`] says (axe-core, unique ids, no sideways scrolling on a phone) and saved,
//! whole, to
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
        token_days: 3650,
        ..Settings::default()
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

    /// A household in `gemeente`, with rik as its regisseur and petra as its casemanager.
    async fn household(&self, id: &str, gemeente: &str, wijk: &str) {
        self.api(
            reqwest::Method::POST,
            "/api/v1/households",
            &self.admin,
            json!({
                "id": id, "region": "brabant-zuidoost", "gemeente": gemeente, "wijk": wijk,
                "minor_children": false, "opened_at": "2025-01-06"
            }),
        )
        .await;
        self.api(
            reqwest::Method::PUT,
            &format!("/api/v1/households/{id}/assignments"),
            &self.admin,
            json!({"regisseur": "rik", "casemanagers": ["petra"]}),
        )
        .await;
    }

    async fn score(&self, token: &str, household: &str, perspective: &str, value: i64, at: &str) {
        self.api(
            reqwest::Method::POST,
            &format!("/api/v1/households/{household}/scores"),
            token,
            json!({"at": at, "perspective": perspective, "value": value}),
        )
        .await;
    }

    /// Moves the clock and runs the scheduler, as the service does when households fall due.
    async fn later(&self, at: &str) {
        let now: zicht::domain::Instant = at.parse().unwrap();
        self.clock.set(now);
        zicht::app::alerting::run_due(&self.state, now)
            .await
            .unwrap();
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

/// Asserts that the page fits a phone (390 px wide) without scrolling sideways.
async fn fits_a_phone(client: &Client) {
    client.set_window_size(390, 844).await.unwrap();
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    client.set_window_size(1280, 900).await.unwrap();
    assert_eq!(
        overflow.as_i64(),
        Some(0),
        "{} scrolls sideways at 390 px",
        client.current_url().await.unwrap()
    );
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

/// The unread count in the header's "Berichten (3 ongelezen)".
async fn unread(client: &Client) -> i64 {
    let link = client
        .find(Locator::Css("header a[href='/berichten']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    link.split('(')
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .map_or(0, |n| n.parse().unwrap())
}

/// A Chrome DevTools command, through chromedriver.
#[derive(Debug)]
struct Cdp(&'static str, serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &reqwest::Url,
        session: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({"cmd": self.0, "params": self.1});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// Saves the page as it prints (`@media print`), at the width of A4 paper (96 dpi).
async fn printed(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let media = |media: &'static str| Cdp("Emulation.setEmulatedMedia", json!({"media": media}));
    client.issue_cmd(media("print")).await.unwrap();
    client.set_window_size(794, 1123).await.unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    client.issue_cmd(media("")).await.unwrap();
    client.set_window_size(1280, 900).await.unwrap();
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
#[cfg_attr(
    not(zicht_browser),
    ignore = "browser suite: install Debian's chromium and chromium-driver (README.md)"
)]
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
    site.household("H-0001", "Eindhoven", "Woensel-Noord").await;
    site.household("H-0002", "Eindhoven", "Strijp").await;
    site.household("H-0003", "Helmond", "Brandevoort").await;
    site.household("H-0004", "Eindhoven", "Stratum").await;
    // Eight weeks of work on three households: none reached directe veiligheid, none was scored
    // for weeks (so week 6's question is answered at week 8), and on H-0002 the victim sees far
    // less safety than the professional. On H-0004 the victim's scores fall: an observation.
    let start = "2025-01-06T10:00:00+01:00";
    site.score(&cm, "H-0002", "professional", 8, start).await;
    site.score(&cm, "H-0002", "slachtoffer", 2, start).await;
    site.score(&cm, "H-0003", "slachtoffer", 5, start).await;
    site.later("2025-03-04T12:00:00+01:00").await;
    for (k, v) in [9, 8, 8, 7, 6, 6].iter().enumerate() {
        let at = format!("2025-02-{:02}T10:00:00+01:00", 3 + 4 * k);
        site.score(&cm, "H-0004", "slachtoffer", *v, &at).await;
        site.score(&cm, "H-0004", "casemanager", 7, &at).await;
    }
    site.score(
        &cm,
        "H-0001",
        "professional",
        9,
        "2025-03-04T10:00:00+01:00",
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
    value.send_keys("2").await.unwrap();
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
    // A falling trend is an observation on the situatieplaat, not an alert.
    client
        .goto(&format!("{}/huishoudens/H-0004", site.base))
        .await
        .unwrap();
    arrive(&client, "/huishoudens/H-0004").await;
    let page = text(&client).await;
    assert!(
        page.contains("Observaties") && page.contains("Dalende trend (Slachtoffer)"),
        "{page}"
    );
    screenshot(&client, "3b-situatieplaat-observatie").await;

    // The casemanager's work queue: the reminders, and no decisions to take.
    client
        .goto(&format!("{}/waarschuwingen", site.base))
        .await
        .unwrap();
    element(&client, "section.household").await;
    let page = text(&client).await;
    assert!(page.contains("Meting achterstallig"), "{page}");
    assert!(page.contains("Score vastleggen voor H-0002"), "{page}");
    assert!(
        page.contains(
            "De regisseur van een huishouden legt over deze waarschuwingen een besluit vast."
        ),
        "{page}"
    );
    fits_a_phone(&client).await;
    screenshot(&client, "4a-werklijst-casemanager").await;
    logout(&client).await;

    // The regisseur finds it in the queue under its household, with its advice.
    login(&client, &site.base, "rik").await;
    arrive(&client, "/waarschuwingen").await;
    // See it live: while the queue is open, scores posted through the API make a new alert fire
    // on H-0003. The page says so politely, and the header's unread count follows at once.
    element(&client, ".live[data-state=open]").await;
    let unread_before = unread(&client).await;
    site.score(&cm, "H-0003", "slachtoffer", 2, "2025-03-04T11:00:00+01:00")
        .await;
    site.score(
        &cm,
        "H-0003",
        "professional",
        8,
        "2025-03-04T11:05:00+01:00",
    )
    .await;
    let notice = element(&client, ".live .notice").await;
    assert_eq!(
        notice.text().await.unwrap(),
        "Er is iets veranderd — vernieuwen"
    );
    for _ in 0..200 {
        if unread(&client).await == unread_before + 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(unread(&client).await, unread_before + 1);
    screenshot(&client, "4-waarschuwingen-live").await;
    notice
        .find(Locator::LinkText("vernieuwen"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//section[@aria-labelledby='huishouden-H-0003']//a[normalize-space()='Uiteenlopende scores']",
        ))
        .await
        .unwrap();
    assert!(client.find(Locator::Css(".live .notice")).await.is_err());
    let in_queue = Locator::XPath(
        "//section[@aria-labelledby='huishouden-H-0001']//a[normalize-space()='Uiteenlopende scores']",
    );
    let page = text(&client).await;
    assert!(page.contains("slachtoffer apart"), "{page}");
    assert!(page.contains("bij 3 huishoudens"), "{page}");
    let open_before = client
        .find(Locator::Css("nav.tabs a[aria-current=page]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    fits_a_phone(&client).await;
    screenshot(&client, "4-waarschuwingen").await;
    // Filtered to one household, the filter stays in the form.
    type_into(&client, "huishouden", "H-0001").await;
    client
        .find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    element(&client, "a[href='/waarschuwingen?tab=afgehandeld']").await;
    for _ in 0..200 {
        if client.current_url().await.unwrap().query().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = text(&client).await;
    assert!(!page.contains("H-0002"), "{page}");
    screenshot(&client, "4b-waarschuwingen-gefilterd").await;
    client.find(in_queue).await.unwrap().click().await.unwrap();
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
    let open_after = client
        .find(Locator::Css("nav.tabs a[aria-current=page]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |label: &str| -> i64 {
        label
            .trim_start_matches("Open (")
            .trim_end_matches(')')
            .parse()
            .unwrap()
    };
    assert_eq!(count(&open_after), count(&open_before) - 1, "{open_after}");
    assert!(client.find(in_queue).await.is_err(), "{page}");
    screenshot(&client, "5-besluit-bevestigd").await;
    // On the Afgehandeld tab, with its history and no decision forms left.
    client
        .find(Locator::Css("a[href='/waarschuwingen?tab=afgehandeld']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let handled = Locator::XPath(
        "//section[@aria-labelledby='huishouden-H-0001']//a[normalize-space()='Uiteenlopende scores']",
    );
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(handled)
        .await
        .unwrap();
    screenshot(&client, "5a-afgehandeld").await;
    client.find(handled).await.unwrap().click().await.unwrap();
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
    assert!(page.contains("Uiteenlopende scores bij H-0002"), "{page}");
    fits_a_phone(&client).await;
    screenshot(&client, "5b-berichten").await;
    // Alles gelezen: the header's unread count goes.
    client
        .find(Locator::Css("form[action='/berichten/gelezen'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..200 {
        if !text(&client).await.contains("ongelezen") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = text(&client).await;
    assert!(
        !page.contains("ongelezen") && !page.contains("Nieuw:"),
        "{page}"
    );

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

    // Who accessed the household: the regisseur follows the link on the situatieplaat.
    client
        .find(Locator::Css("a[href='/huishoudens/H-0001/toegang']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(&client, "/huishoudens/H-0001/toegang").await;
    let page = text(&client).await;
    assert!(page.contains("Wie heeft H-0001 ingezien?"), "{page}");
    assert!(
        page.contains("petra") && page.contains("gebeurtenis vastgelegd"),
        "{page}"
    );
    screenshot(&client, "5e-toegang").await;

    // The casusoverleg agenda: this week's news of rik's households, with the facts to bring.
    client
        .find(Locator::Css("header a[href='/casusoverleg']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(&client, "/casusoverleg").await;
    element(&client, "section.household").await;
    let agenda = text(&client).await;
    for expected in [
        "H-0001",
        "H-0002",
        "H-0003",
        "1 open ernstige waarschuwing en een nieuwe trede op de escalatieladder.",
        "Trede 3 · geweld niet te stoppen (was trede 1)",
        "Uiteenlopende scores",
        "Laatste scores",
    ] {
        assert!(agenda.contains(expected), "{expected}: {agenda}");
    }
    fits_a_phone(&client).await;
    screenshot(&client, "7-casusoverleg").await;
    client
        .find(Locator::LinkText("Afdrukversie"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    element(&client, ".print-view").await;
    assert!(client.find(Locator::Css("form.filters")).await.is_err());
    screenshot(&client, "7a-casusoverleg-afdrukversie").await;
    printed(&client, "7b-casusoverleg-op-papier").await;
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
#[cfg_attr(
    not(zicht_browser),
    ignore = "browser suite: install Debian's chromium and chromium-driver (README.md)"
)]
async fn a_household_with_history_reads_on_a_phone_and_its_forms_guard_the_facts() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let site = site().await;
    let cm = site.user("petra", "casemanager", json!({})).await;
    site.user("woonbedrijf", "signal_reporter", json!({})).await;
    site.user(
        "vt-bzo",
        "veilig_thuis",
        json!({"region": "brabant-zuidoost"}),
    )
    .await;
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
    drop(conn);
    logout(&client).await;

    // Veilig Thuis in a crisis: no household of its own; it states a reason and reads one.
    login(&client, &site.base, "vt-bzo").await;
    arrive(&client, "/inzage").await;
    screenshot(&client, "15-inzage").await;
    type_into(&client, "household", "H-0002").await;
    type_into(&client, "reason", "crisis").await;
    submit(&client, "/inzage").await;
    failed(&client, "reden te kort").await;
    screenshot(&client, "15b-inzage-fout").await;
    type_into(
        &client,
        "reason",
        "melding politie vannacht, kinderen thuis",
    )
    .await;
    submit(&client, "/inzage").await;
    arrive(&client, "/huishoudens/H-0002").await;
    let page = text(&client).await;
    assert!(page.contains("inzage zonder toewijzing"), "{page}");
    assert!(!page.contains("Score vastleggen"), "{page}");
    screenshot(&client, "15c-inzage-huishouden").await;
    client.close().await.unwrap();
}
