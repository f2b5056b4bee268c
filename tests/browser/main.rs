//! Browser tests: the web pages in headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver. A casemanager records a score that makes an alert fire and sees the
//! reminders on their work queue, the regisseur finds the alert in theirs and records a decision
//! (confirmed, gone from the queue, on the Afgehandeld tab), a gemeente monitor is refused the
//! household page, and a bad value shows its Dutch error. Screenshots of the main pages go to
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

/// Saves the page as a desktop (1280 px) and a phone (390 px) would show it.
async fn screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (suffix, width, height) in [("", 1280, 900), ("-390", 390, 844)] {
        client.set_window_size(width, height).await.unwrap();
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
    site.household("H-0001", "Eindhoven", "Woensel-Noord").await;
    site.household("H-0002", "Eindhoven", "Strijp").await;
    site.household("H-0003", "Helmond", "Brandevoort").await;
    // Six weeks of work on three households: none reached directe veiligheid, none was scored for
    // weeks, and on H-0002 the victim sees far less safety than the professional.
    let start = "2025-01-06T10:00:00+01:00";
    site.score(&cm, "H-0002", "professional", 9, start).await;
    site.score(&cm, "H-0002", "slachtoffer", 3, start).await;
    site.score(&cm, "H-0003", "slachtoffer", 5, start).await;
    site.later("2025-02-20T12:00:00+01:00").await;
    site.score(
        &cm,
        "H-0001",
        "professional",
        9,
        "2025-02-20T10:00:00+01:00",
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
    value.send_keys("3").await.unwrap();
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
