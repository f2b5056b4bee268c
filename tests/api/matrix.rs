//! The route × role × own/foreign/missing matrix (issue 11). Every route the router serves, the
//! API's from its own OpenAPI document and the pages' from `src/http/web/mod.rs`, is asked by each
//! role and by nobody, about a thing (a household, alert, notification, user …) of the asker, one
//! of someone else and one that does not exist. Each route has a decision in [`DECISIONS`]: a
//! route added without one fails this suite, and so does any answer that departs from its
//! decision, a 5xx, or a foreign thing that answers differently from a missing one.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, both};
use crate::web::{PASSWORD, sign_in};

/// Who asks: nobody, or a user of each role (with an API token and a page session).
const ASKERS: &[&str] = &[
    "anonymous",
    "admin",
    "regisseur",
    "casemanager",
    "specialist",
    "gemeente_monitor",
    "signal_reporter",
    "veilig_thuis",
];

/// What a route answers whom.
#[derive(Clone, Copy, Debug)]
enum Scope {
    /// Anyone, signed in or not.
    Open,
    /// The roles listed; others are refused.
    Roles(&'static [&'static str]),
    /// About one thing: the roles in `own` may on their own one, those in `any` on every existing
    /// one. Everyone else, and `own` on someone else's, gets the answer of a thing that does not
    /// exist.
    Thing {
        own: &'static [&'static str],
        any: &'static [&'static str],
    },
    /// The sign-in form's post: refused (403) without the token of the form itself, whoever asks.
    SignIn,
    /// Signing out: everyone ends on the sign-in page.
    SignOut,
}

use Scope::{Open, Roles, SignIn, SignOut, Thing};

const SIGNED_IN: &[&str] = &[
    "admin",
    "regisseur",
    "casemanager",
    "specialist",
    "gemeente_monitor",
    "signal_reporter",
    "veilig_thuis",
];
const WORKERS: &[&str] = &["regisseur", "casemanager"];
const REGISSEUR: &[&str] = &["regisseur"];
const ADMIN: &[&str] = &["admin"];
const NOBODY: &[&str] = &[];

/// The decision for every route: (method, path template, scope). Keep it in the order of the
/// routers.
const DECISIONS: &[(&str, &str, Scope)] = &[
    (
        "POST",
        "/api/v1/households",
        Roles(&["admin", "regisseur", "casemanager"]),
    ),
    (
        "GET",
        "/api/v1/households",
        Roles(&["admin", "regisseur", "casemanager"]),
    ),
    (
        "GET",
        "/api/v1/households/{id}",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "GET",
        "/api/v1/households/{id}/timeline",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "POST",
        "/api/v1/households/{id}/scores",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "POST",
        "/api/v1/households/{id}/signals",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "POST",
        "/api/v1/households/{id}/events",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "PUT",
        "/api/v1/households/{id}/assignments",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    (
        "POST",
        "/api/v1/households/{id}/break-glass",
        Thing {
            own: NOBODY,
            any: &["veilig_thuis"],
        },
    ),
    (
        "GET",
        "/api/v1/households/{id}/break-glass",
        Thing {
            own: REGISSEUR,
            any: ADMIN,
        },
    ),
    ("GET", "/api/v1/break-glass", Roles(ADMIN)),
    (
        "POST",
        "/api/v1/events",
        Roles(&["admin", "regisseur", "casemanager"]),
    ),
    ("POST", "/api/v1/reports", Roles(&["signal_reporter"])),
    ("GET", "/api/v1/alerts", Roles(WORKERS)),
    (
        "GET",
        "/api/v1/alerts/{id}",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "POST",
        "/api/v1/alerts/{id}/acknowledge",
        Thing {
            own: REGISSEUR,
            any: NOBODY,
        },
    ),
    (
        "POST",
        "/api/v1/alerts/{id}/silence",
        Thing {
            own: REGISSEUR,
            any: NOBODY,
        },
    ),
    ("GET", "/api/v1/inbox", Roles(SIGNED_IN)),
    ("GET", "/api/v1/inbox/unread", Roles(SIGNED_IN)),
    (
        "POST",
        "/api/v1/inbox/{id}/read",
        Thing {
            own: SIGNED_IN,
            any: NOBODY,
        },
    ),
    ("GET", "/api/v1/inbox/stream", Roles(SIGNED_IN)),
    ("GET", "/api/v1/me/preferences", Roles(SIGNED_IN)),
    ("PUT", "/api/v1/me/preferences", Roles(SIGNED_IN)),
    ("POST", "/api/v1/webhooks", Roles(ADMIN)),
    ("GET", "/api/v1/webhooks", Roles(ADMIN)),
    (
        "DELETE",
        "/api/v1/webhooks/{id}",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    (
        "POST",
        "/api/v1/webhooks/{id}/enable",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    (
        "POST",
        "/api/v1/webhooks/{id}/rotate-secret",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    ("GET", "/api/v1/webhooks/deliveries", Roles(ADMIN)),
    (
        "POST",
        "/api/v1/webhooks/deliveries/{id}/redeliver",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    ("POST", "/api/v1/users", Roles(ADMIN)),
    ("GET", "/api/v1/users", Roles(ADMIN)),
    (
        "POST",
        "/api/v1/users/{id}/tokens",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    (
        "GET",
        "/api/v1/users/{id}/tokens",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    (
        "DELETE",
        "/api/v1/tokens/{id}",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    (
        "PUT",
        "/api/v1/users/{id}/password",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    (
        "POST",
        "/api/v1/users/{id}/unlock",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    (
        "POST",
        "/api/v1/users/{id}/deactivate",
        Thing {
            own: NOBODY,
            any: ADMIN,
        },
    ),
    ("GET", "/api/v1/audit", Roles(ADMIN)),
    ("GET", "/api/v1/me", Roles(SIGNED_IN)),
    ("GET", "/api/v1/openapi.json", Roles(SIGNED_IN)),
    ("GET", "/healthz", Open),
    ("GET", "/readyz", Open),
    ("GET", "/metrics", Roles(ADMIN)),
    // The pages.
    ("GET", "/", Roles(SIGNED_IN)),
    ("GET", "/inloggen", Open),
    ("POST", "/inloggen", SignIn),
    ("POST", "/uitloggen", SignOut),
    ("GET", "/huishoudens", Roles(WORKERS)),
    (
        "GET",
        "/huishoudens/{id}",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "GET",
        "/huishoudens/{id}/toegang",
        Thing {
            own: REGISSEUR,
            any: NOBODY,
        },
    ),
    (
        "GET",
        "/huishoudens/{id}/{form}",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "POST",
        "/huishoudens/{id}/{form}",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    ("GET", "/waarschuwingen", Roles(WORKERS)),
    (
        "GET",
        "/waarschuwingen/{id}",
        Thing {
            own: WORKERS,
            any: NOBODY,
        },
    ),
    (
        "POST",
        "/waarschuwingen/{id}/{form}",
        Thing {
            own: REGISSEUR,
            any: NOBODY,
        },
    ),
    ("GET", "/berichten", Roles(SIGNED_IN)),
    ("POST", "/berichten/gelezen", Roles(SIGNED_IN)),
    ("GET", "/gemeente", Roles(&["gemeente_monitor"])),
    ("GET", "/melden", Roles(&["signal_reporter"])),
    ("POST", "/melden", Roles(&["signal_reporter"])),
    ("GET", "/inzage", Roles(&["veilig_thuis"])),
    ("POST", "/inzage", Roles(&["veilig_thuis"])),
    ("GET", "/casusoverleg", Roles(REGISSEUR)),
    ("GET", "/live", Roles(SIGNED_IN)),
    ("GET", "/static/live.js", Open),
];

/// The API's routes, from the OpenAPI document the router was built with.
async fn api_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc = app
        .get(&app.admin_token, "/api/v1/openapi.json")
        .await
        .expect(StatusCode::OK);
    let mut routes = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// The pages' routes, read from the page router's source (as `src/layering.rs` reads the tree).
fn page_routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/web/mod.rs"),
    )
    .unwrap();
    let router = source
        .split("fn router()")
        .nth(1)
        .unwrap()
        .split("\n}\n")
        .next()
        .unwrap();
    let mut routes = BTreeSet::new();
    for part in router.split(".route(").skip(1) {
        let path = part.split('"').nth(1).unwrap().to_owned();
        let handlers = part.split_once(',').unwrap().1;
        let handlers = handlers.split("\n        .route(").next().unwrap();
        for (name, method) in [
            ("get(", "GET"),
            ("post(", "POST"),
            ("put(", "PUT"),
            ("delete(", "DELETE"),
        ] {
            if handlers.contains(name) {
                routes.insert((method.to_owned(), path.clone()));
            }
        }
    }
    routes
}

struct Asker {
    token: Option<String>,
    session: Option<String>,
    csrf: Option<String>,
}

/// Path values: (own, foreign, missing) per asker, for the thing a route template is about.
type Targets = BTreeMap<&'static str, [String; 3]>;

struct World {
    askers: BTreeMap<&'static str, Asker>,
    households: Targets,
    alerts: Targets,
    notifications: Targets,
    /// Things only an admin manages: the same existing one as own and foreign.
    user: String,
    token: String,
    webhook: String,
    delivery: String,
}

const MISSING: &str = "999999";

/// A user of `body` (with a username and role) who signs in with [`PASSWORD`]: their token.
async fn person(app: &TestApp, body: Value) -> (i64, String) {
    let user = app
        .post(&app.admin_token, "/api/v1/users", body.clone())
        .await
        .expect(StatusCode::CREATED);
    let id = user.body["id"].as_i64().unwrap();
    let token = app
        .post(
            &app.admin_token,
            &format!("/api/v1/users/{id}/tokens"),
            json!({"name": "matrix"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let mut conn = app.state.db.acquire().await.unwrap();
    zicht::store::sessions::set_password_hash(&mut conn, id, &zicht::auth::hash_password(PASSWORD))
        .await
        .unwrap();
    (id, token.body["secret"].as_str().unwrap().to_owned())
}

async fn world(app: &TestApp) -> World {
    let mut names = BTreeMap::new();
    let mut tokens = BTreeMap::new();
    for (asker, name, extra) in [
        ("regisseur", "rg1", json!({})),
        ("casemanager", "cm1", json!({})),
        ("specialist", "sp1", json!({"region": "brabant-zuidoost"})),
        ("gemeente_monitor", "aov1", json!({"gemeente": "Eindhoven"})),
        ("signal_reporter", "rep1", json!({})),
        ("veilig_thuis", "vt1", json!({"region": "brabant-zuidoost"})),
    ] {
        let mut body = extra;
        body["username"] = json!(name);
        body["role"] = json!(asker);
        tokens.insert(asker, person(app, body).await.1);
        names.insert(asker, name);
    }
    // The first admin, made at start, signs in on the pages too.
    {
        let mut conn = app.state.db.acquire().await.unwrap();
        let admin = zicht::store::find_user_by_name(&mut conn, "admin")
            .await
            .unwrap()
            .unwrap();
        zicht::store::sessions::set_password_hash(
            &mut conn,
            admin.id,
            &zicht::auth::hash_password(PASSWORD),
        )
        .await
        .unwrap();
    }
    names.insert("admin", "admin");
    let (_, rg2) = person(app, json!({"username": "rg2", "role": "regisseur"})).await;
    let (_, cm2) = person(app, json!({"username": "cm2", "role": "casemanager"})).await;
    let (victim, victim_token) =
        person(app, json!({"username": "cm3", "role": "casemanager"})).await;
    app.household("H-0001", Some("rg1"), &["cm1"]).await;
    app.household("H-0002", Some("rg2"), &["cm2"]).await;
    app.post(
        &app.admin_token,
        "/api/v1/webhooks",
        json!({"url": "http://127.0.0.1:9/hook", "role": "regisseur"}),
    )
    .await
    .expect(StatusCode::CREATED);
    // A divergence on each household: an alert, and a notification for its regisseur.
    for (household, cm) in [("H-0001", &tokens["casemanager"]), ("H-0002", &cm2)] {
        for (perspective, value) in [("professional", 9), ("slachtoffer", 2)] {
            app.score(
                cm,
                household,
                perspective,
                value,
                "2025-01-06T10:00:00+01:00",
            )
            .await
            .expect(StatusCode::CREATED);
        }
    }
    let _ = rg2;
    let scalar = |sql: String| async move { app.scalar(&sql).await.to_string() };
    let alert_of = |h: &str| format!("SELECT id FROM alerts WHERE household_id = '{h}'");
    let (own_alert, foreign_alert) = (
        scalar(alert_of("H-0001")).await,
        scalar(alert_of("H-0002")).await,
    );
    let notification_of = |u: &str| {
        format!(
            "SELECT COALESCE(MAX(n.id), {MISSING}) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = '{u}'"
        )
    };
    let foreign_notification = scalar(notification_of("rg2")).await;

    let mut askers = BTreeMap::new();
    let (mut households, mut alerts, mut notifications) =
        (Targets::new(), Targets::new(), Targets::new());
    for asker in ASKERS {
        let (token, name) = match *asker {
            "anonymous" => (None, None),
            "admin" => (Some(app.admin_token.clone()), Some("admin")),
            other => (Some(tokens[other].clone()), Some(names[other])),
        };
        let (session, csrf) = match name {
            Some(name) => {
                let session = sign_in(app, name, PASSWORD).await.unwrap();
                let csrf = crate::web::page_csrf(app, &session, "/berichten").await;
                (Some(session), Some(csrf))
            }
            None => (None, None),
        };
        households.insert(asker, ["H-0001".into(), "H-0002".into(), "H-9999".into()]);
        alerts.insert(
            asker,
            [own_alert.clone(), foreign_alert.clone(), MISSING.into()],
        );
        let own_notification = match name {
            Some(n) => scalar(notification_of(n)).await,
            None => MISSING.into(),
        };
        notifications.insert(
            asker,
            [
                own_notification,
                foreign_notification.clone(),
                MISSING.into(),
            ],
        );
        askers.insert(
            *asker,
            Asker {
                token,
                session,
                csrf,
            },
        );
    }
    let token = scalar(format!(
        "SELECT MAX(id) FROM api_tokens WHERE user_id = {victim}"
    ))
    .await;
    let _ = victim_token;
    World {
        askers,
        households,
        alerts,
        notifications,
        user: victim.to_string(),
        token,
        webhook: scalar("SELECT MAX(id) FROM webhook_endpoints".into()).await,
        delivery: scalar("SELECT MAX(id) FROM outbox".into()).await,
    }
}

/// One answer: its status, where it redirects, and its body with the asked id taken out.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    location: String,
    body: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Asks `method path` as `asker`; a stream is judged by its status and headers alone.
async fn ask(
    app: &TestApp,
    asker: &Asker,
    method: &str,
    template: &str,
    path: &str,
    id: &str,
) -> Answer {
    let page =
        !template.starts_with("/api/") && !["/healthz", "/readyz", "/metrics"].contains(&template);
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client().request(method.clone(), app.url(path));
    if page {
        if let Some(session) = &asker.session {
            request = request.header("cookie", session);
        }
        if method == Method::POST {
            let csrf = asker.csrf.clone().unwrap_or_default();
            request = request.form(&[("csrf", csrf)]);
        }
    } else {
        if let Some(token) = &asker.token {
            request = request.bearer_auth(token);
        }
        if template == "/api/v1/events" {
            let line = r#"{"type":"score","household":"H-0001","at":"2025-01-07T10:00:00+01:00","perspective":"casemanager","value":5}"#;
            request = request
                .header("content-type", "application/x-ndjson")
                .body(line);
        } else if method == Method::POST || method == Method::PUT {
            request = request.json(&body_for(template));
        }
    }
    let response = request.send().await.expect("the app answers");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let stream = response
        .headers()
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap().starts_with("text/event-stream"));
    let body = if stream {
        String::new()
    } else {
        response.text().await.unwrap_or_default()
    };
    // What differs only by the id asked about, or by the request, is not an answer's content.
    let body = if id.len() >= 4 {
        body.replace(id, "{id}")
    } else {
        body
    };
    let body = body
        .split('"')
        .map(|part| {
            if part.len() == 36 && part.matches('-').count() == 4 {
                "{uuid}"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("\"");
    Answer {
        status,
        location,
        body,
    }
}

/// A body the route would take from someone allowed, so that what answers is the access check,
/// not the body's validation.
fn body_for(template: &str) -> Value {
    match template {
        "/api/v1/alerts/{id}/acknowledge" => {
            json!({"decision": "geen_actie", "reason": "Besproken."})
        }
        "/api/v1/alerts/{id}/silence" => {
            json!({"reason": "Wacht op het plan.", "until": "2025-03-01"})
        }
        "/api/v1/users/{id}/password" => json!({"password": "een-lang-nieuw-wachtwoord-2025"}),
        "/api/v1/users/{id}/tokens" => json!({"name": "matrix"}),
        _ => json!({}),
    }
}

fn fill(template: &str, value: &str) -> String {
    let form = if template.starts_with("/waarschuwingen") {
        "afhandelen"
    } else {
        "score"
    };
    template.replacen("{id}", value, 1).replace("{form}", form)
}

both! {
    async fn every_route_answers_every_role_as_its_decision_says(app: TestApp) {
        let mut routes = api_routes(&app).await;
        routes.extend(page_routes());
        let decided: BTreeMap<(String, String), Scope> = DECISIONS
            .iter()
            .map(|(m, p, s)| ((m.to_string(), p.to_string()), *s))
            .collect();
        let undecided: Vec<_> = routes.iter().filter(|r| !decided.contains_key(*r)).collect();
        assert!(undecided.is_empty(), "routes without a decision in DECISIONS: {undecided:?}");
        let gone: Vec<_> = decided.keys().filter(|r| !routes.contains(*r)).collect();
        assert!(gone.is_empty(), "decisions for routes the router does not serve: {gone:?}");

        let world = world(&app).await;
        let mut failures = Vec::new();
        let mut cells = 0;
        // Signing out last: it ends the session the other page cells use.
        let mut order: Vec<&(String, String)> = routes.iter().collect();
        order.sort_by_key(|(_, p)| p == "/uitloggen");
        for (method, template) in order {
            let scope = decided[&(method.clone(), template.clone())];
            let targets: Option<&Targets> = match template.as_str() {
                t if !t.contains('{') => None,
                t if t.contains("/households/") || t.starts_with("/huishoudens/") => Some(&world.households),
                t if t.contains("/alerts/") || t.starts_with("/waarschuwingen/") => Some(&world.alerts),
                t if t.contains("/inbox/") => Some(&world.notifications),
                _ => None,
            };
            let single = match template.as_str() {
                t if t.contains("/users/") => Some(&world.user),
                t if t.contains("/tokens/") => Some(&world.token),
                t if t.contains("/deliveries/") => Some(&world.delivery),
                t if t.contains("/webhooks/") => Some(&world.webhook),
                _ => None,
            };
            for asker in ASKERS {
                let who = &world.askers[asker];
                let values: Vec<String> = match (targets, single) {
                    (Some(t), _) => t[asker].to_vec(),
                    (None, Some(one)) => vec![one.clone(), one.clone(), MISSING.into()],
                    (None, None) => vec![String::new()],
                };
                let mut answers = Vec::new();
                for value in &values {
                    let path = fill(template, value);
                    let answer = ask(&app, who, method, template, &path, value).await;
                    cells += 1;
                    let cell = format!("{method} {path} as {asker}: {} {}", answer.status, answer.location);
                    if answer.status >= 500 {
                        failures.push(format!("{cell}: a server error"));
                    }
                    answers.push((value.clone(), cell, answer));
                }
                // The pages a person opens send them to sign in; what a page script fetches
                // (`/live`) answers 401.
                let page = !template.starts_with("/api/")
                    && !["/healthz", "/readyz", "/metrics", "/live"].contains(&template.as_str());
                let unauthenticated = |a: &Answer| {
                    if page { a.status == 303 && a.location.starts_with("/inloggen") } else { a.status == 401 }
                };
                let refused = |a: &Answer| a.status == 403 || a.status == 404 || unauthenticated(a);
                let not_found = |a: &Answer| a.status == 404;
                for (i, (value, cell, answer)) in answers.iter().enumerate() {
                    let expected: Result<(), &str> = match scope {
                        Open => if refused(answer) { Err("open to anyone") } else { Ok(()) },
                        SignIn => if answer.status == 403 { Ok(()) } else { Err("refused without the form's token") },
                        SignOut => if unauthenticated(answer) { Ok(()) } else { Err("sent to the sign-in page") },
                        _ if *asker == "anonymous" => if unauthenticated(answer) { Ok(()) } else { Err("needs a sign-in") },
                        Roles(roles) => match (roles.contains(asker), refused(answer)) {
                            (true, true) => Err("allowed for this role"),
                            (false, false) => Err("refused for this role"),
                            _ => Ok(()),
                        },
                        Thing { own, any } => {
                            let may = any.contains(asker) || (own.contains(asker) && i == 0);
                            let missing = i == 2 || value == MISSING;
                            // A role that may act on its own things is told of another's, or of one
                            // that does not exist, only that it is not there; a role that may not
                            // act on any is refused as a role.
                            let works_here = own.contains(asker) || any.contains(asker);
                            match (may && !missing, refused(answer)) {
                                (true, true) => Err("allowed on this one"),
                                (false, false) => Err("refused: not theirs or not there"),
                                (false, true) if works_here && !not_found(answer) => {
                                    Err("answered like a thing that does not exist (404)")
                                }
                                _ => Ok(()),
                            }
                        }
                    };
                    if let Err(why) = expected {
                        failures.push(format!("{cell}: expected {why}"));
                    }
                }
                // A foreign thing answers exactly as a missing one.
                if let [(_, _, own), (_, cell, foreign), (_, _, missing)] = &answers[..]
                    && matches!(scope, Thing { any, .. } if !any.contains(asker))
                    && foreign != missing
                {
                    let _ = own;
                    failures.push(format!("{cell}: a foreign one answers {foreign:?}, a missing one {missing:?}"));
                }
            }
        }
        assert!(cells > 500, "{cells} cells");
        assert!(failures.is_empty(), "{} of {cells} cells:\n{}", failures.len(), failures.join("\n"));
    }
}
