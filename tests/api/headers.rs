//! What every response says to browsers and caches, HSTS behind TLS, and where `/metrics` is.

use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;
use crate::web::{PASSWORD, browser, sign_in, with_password};

#[tokio::test]
async fn api_answers_and_pages_are_never_cached_nor_sniffed_static_assets_may_be() {
    let app = TestApp::spawn_sqlite().await;
    let cm = with_password(&app, "petra", "casemanager").await;
    app.household("H-0001", None, &["petra"]).await;
    let answers = [
        app.get(&cm, "/api/v1/households/H-0001")
            .await
            .expect(StatusCode::OK),
        app.get(&cm, "/api/v1/households/H-0404")
            .await
            .expect(StatusCode::NOT_FOUND),
        app.request(Method::GET, "/api/v1/me", None, None)
            .await
            .expect(StatusCode::UNAUTHORIZED),
        app.request(Method::GET, "/nergens", None, None)
            .await
            .expect(StatusCode::NOT_FOUND),
    ];
    for reply in &answers {
        assert_eq!(reply.header("cache-control"), "no-store");
        assert_eq!(reply.header("x-content-type-options"), "nosniff");
        assert_eq!(
            reply.header("strict-transport-security"),
            "",
            "HSTS is off by default"
        );
    }
    // The API's live stream too (server-sent events would say `no-cache`).
    let stream = reqwest::Client::new()
        .get(app.url("/api/v1/inbox/stream"))
        .bearer_auth(&cm)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["cache-control"], "no-store");
    drop(stream);
    let session = sign_in(&app, "petra", PASSWORD).await.unwrap();
    let page = browser()
        .get(app.url("/huishoudens/H-0001"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let script = browser()
        .get(app.url("/static/live.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(script.headers()["x-content-type-options"], "nosniff");
    assert!(
        script
            .headers()
            .get("cache-control")
            .is_none_or(|v| v != "no-store")
    );
}

#[tokio::test]
async fn behind_tls_every_answer_asks_for_https_only() {
    let app = TestApp::spawn_sqlite_configured(|s| s.behind_tls = true).await;
    for reply in [
        app.get(&app.admin_token, "/api/v1/me")
            .await
            .expect(StatusCode::OK),
        app.request(Method::GET, "/healthz", None, None)
            .await
            .expect(StatusCode::OK),
    ] {
        assert_eq!(
            reply.header("strict-transport-security"),
            "max-age=31536000; includeSubDomains"
        );
    }
}

#[tokio::test]
async fn metrics_need_an_admins_token_on_the_main_address() {
    let app = TestApp::spawn_sqlite().await;
    let cm = app.user("cm1", "casemanager").await;
    assert_eq!(app.metrics_addr, None);
    app.request(Method::GET, "/metrics", None, None)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "");
    app.get(&cm, "/metrics")
        .await
        .expect_problem(StatusCode::FORBIDDEN, "");
    let metrics = app
        .get(&app.admin_token, "/metrics")
        .await
        .expect(StatusCode::OK);
    assert!(
        metrics.text.contains("zicht_http_requests_total"),
        "{}",
        metrics.text
    );
    // The refusal is audited like any other.
    let audit = app
        .get(&app.admin_token, "/api/v1/audit?limit=500")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "metrics.read"
                && r["actor"] == "cm1"
                && r["outcome"] == "denied")
    );
}

#[tokio::test]
async fn metrics_on_their_own_address_are_served_there_only() {
    let app = TestApp::spawn_sqlite_configured(|s| {
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap())
    })
    .await;
    let metrics_addr = app.metrics_addr.expect("a metrics address is bound");
    assert_ne!(metrics_addr, app.addr);
    app.get(&app.admin_token, "/api/v1/me")
        .await
        .expect(StatusCode::OK);
    let reply = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.headers()["cache-control"], "no-store");
    assert!(reply.text().await.unwrap().contains("route=\"/api/v1/me\""));
    let other = reqwest::get(format!("http://{metrics_addr}/api/v1/me"))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    app.get(&app.admin_token, "/metrics")
        .await
        .expect_problem(StatusCode::NOT_FOUND, "");
}
