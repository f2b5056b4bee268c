//! Health, readiness, metrics and the OpenAPI document.

use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, both};

both! {
    async fn health_and_readiness_answer_without_a_token_metrics_with_an_admins(app: TestApp) {
        let health = app.request(Method::GET, "/healthz", None, None).await.expect(StatusCode::OK);
        assert_eq!(health.body["status"], "ok");
        let ready = app.request(Method::GET, "/readyz", None, None).await.expect(StatusCode::OK);
        assert_eq!(ready.body["status"], "ok");
        app.get(&app.admin_token, "/api/v1/me").await.expect(StatusCode::OK);
        app.request(Method::GET, "/metrics", None, None).await.expect_problem(StatusCode::UNAUTHORIZED, "");
        let metrics = app.get(&app.admin_token, "/metrics").await.expect(StatusCode::OK);
        assert!(metrics.text.contains("zicht_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"} 1"), "{}", metrics.text);
        assert!(metrics.text.contains("zicht_http_request_duration_seconds_bucket"));
        app.request(Method::GET, "/nergens", None, None).await.expect_problem(StatusCode::NOT_FOUND, "");
    }

    async fn readiness_fails_when_the_database_is_gone(app: TestApp) {
        app.request(Method::GET, "/readyz", None, None).await.expect(StatusCode::OK);
        app.execute("DROP TABLE _sqlx_migrations").await.unwrap();
        let ready = app.request(Method::GET, "/readyz", None, None).await;
        assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::spawn_sqlite().await;
    let doc = app
        .get(&app.admin_token, "/api/v1/openapi.json")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    // Every problem is documented as the type it is sent with, and the answers the layers give
    // (a bad token, a body too large or of another type, a write limit, a busy database) are
    // documented on every operation they can come from (schemathesis found them undocumented).
    let create = &doc["paths"]["/api/v1/households"]["post"]["responses"];
    for status in ["400", "401", "413", "415", "429", "503", "403", "422"] {
        assert!(
            create[status]["content"]["application/problem+json"].is_object(),
            "{status}: {create}"
        );
    }
    assert!(
        !doc.to_string()
            .contains(r##""application/json":{"schema":{"$ref":"#/components/schemas/Problem"}}"##)
    );
    let health = &doc["paths"]["/healthz"]["get"]["responses"];
    assert!(
        health["401"].is_null() && health["429"].is_null(),
        "{health}"
    );
    let mut operations: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    operations.sort();
    let expected = [
        "DELETE /api/v1/tokens/{id}",
        "DELETE /api/v1/webhooks/{id}",
        "GET /api/v1/alerts",
        "GET /api/v1/alerts/{id}",
        "GET /api/v1/audit",
        "GET /api/v1/break-glass",
        "GET /api/v1/households",
        "GET /api/v1/households/{id}",
        "GET /api/v1/households/{id}/break-glass",
        "GET /api/v1/households/{id}/timeline",
        "GET /api/v1/inbox",
        "GET /api/v1/inbox/stream",
        "GET /api/v1/inbox/unread",
        "GET /api/v1/me",
        "GET /api/v1/me/preferences",
        "GET /api/v1/openapi.json",
        "GET /api/v1/users",
        "GET /api/v1/users/{id}/tokens",
        "GET /api/v1/webhooks",
        "GET /api/v1/webhooks/deliveries",
        "GET /healthz",
        "GET /metrics",
        "GET /readyz",
        "POST /api/v1/alerts/{id}/acknowledge",
        "POST /api/v1/alerts/{id}/silence",
        "POST /api/v1/events",
        "POST /api/v1/households",
        "POST /api/v1/households/{id}/break-glass",
        "POST /api/v1/households/{id}/events",
        "POST /api/v1/households/{id}/scores",
        "POST /api/v1/households/{id}/signals",
        "POST /api/v1/inbox/{id}/read",
        "POST /api/v1/reports",
        "POST /api/v1/users",
        "POST /api/v1/users/{id}/deactivate",
        "POST /api/v1/users/{id}/tokens",
        "POST /api/v1/users/{id}/unlock",
        "POST /api/v1/webhooks",
        "POST /api/v1/webhooks/deliveries/{id}/redeliver",
        "POST /api/v1/webhooks/{id}/enable",
        "POST /api/v1/webhooks/{id}/rotate-secret",
        "PUT /api/v1/households/{id}/assignments",
        "PUT /api/v1/me/preferences",
        "PUT /api/v1/users/{id}/password",
    ];
    assert_eq!(operations, expected);
    // And every documented operation is served: see access::every_api_route_needs_a_valid_token.
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
