//! Browser tests: the web pages in headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver. A casemanager records a score that makes an alert fire, the regisseur
//! sees it and records a decision, a gemeente monitor is refused the household page, and a bad
//! value shows its Dutch error. Screenshots of the main pages go to `target/tmp/screenshots`.

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
    let app = App::build(settings, Arc::new(clock)).await.unwrap();
    let base = format!("http://{}", app.addr);
    let admin = app.admin_token.clone().unwrap();
    let state = app.state.clone();
    tokio::spawn(app.run(std::future::pending()));
    Site {
        base,
        admin,
        state,
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
