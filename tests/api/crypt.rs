//! Free text is encrypted at rest: a copied database holds none of it, the right key reads it
//! back, a wrong key or a moved ciphertext is a clear error, and a rotation leaves every text
//! readable under the new key only.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row;

use crate::helpers::{TestApp, both};
use zicht::app::AppState;
use zicht::domain::{Event, HouseholdId};
use zicht::store::{self, Db, StoreError};

pub(crate) const SCORE_REASON: &str = "Geheim-scorereden-kelderdeur-7391";
pub(crate) const DESCRIPTION: &str = "Geheim-interventie-sleuteladres-5523";
pub(crate) const CLOSURE_REASON: &str = "Geheim-afsluitreden-verhuisd-naar-Tiel-8841";
pub(crate) const ACK_REASON: &str = "Geheim-besluitreden-zus-vangt-op-1174";
pub(crate) const GLASS_REASON: &str = "Geheim-glasreden-nachtmelding-3306";

/// Writes every kind of free text about H-0001 (and a score on H-0002) through the API.
pub(crate) async fn write_texts(app: &TestApp) -> (String, String) {
    let cm = app.user("cm1", "casemanager").await;
    let rg = app.user("rg1", "regisseur").await;
    let vt = app.user("vt-bzo", "veilig_thuis").await;
    app.household("H-0001", Some("rg1"), &["cm1"]).await;
    app.household("H-0002", Some("rg1"), &["cm1"]).await;
    app.record(
        &cm,
        "H-0001",
        json!({"type": "score", "at": "2025-01-06T10:00:00+01:00",
        "perspective": "professional", "value": 8, "reason": SCORE_REASON}),
    )
    .await
    .expect(StatusCode::CREATED);
    app.record(
        &cm,
        "H-0001",
        json!({"type": "score", "at": "2025-01-06T10:00:00+01:00",
        "perspective": "slachtoffer", "value": 2}),
    )
    .await
    .expect(StatusCode::CREATED);
    app.record(
        &cm,
        "H-0002",
        json!({"type": "score", "at": "2025-01-06T10:00:00+01:00",
        "perspective": "professional", "value": 7}),
    )
    .await
    .expect(StatusCode::CREATED);
    // Saved for a retry under its Idempotency-Key: the saved response echoes the description.
    app.at("2025-01-07T10:00:00+01:00");
    app.post_with_key(
        &cm,
        "/api/v1/households/H-0001/events",
        "k-1",
        json!({
        "type": "intervention", "at": "2025-01-07T10:00:00+01:00",
        "description": DESCRIPTION}),
    )
    .await
    .expect(StatusCode::CREATED);
    let alerts = app
        .get(&rg, "/api/v1/alerts?rule=uiteenlopende-scores")
        .await
        .expect(StatusCode::OK);
    let alert = alerts.body["items"][0]["id"]
        .as_i64()
        .expect("the divergence alert fired");
    app.post(
        &rg,
        &format!("/api/v1/alerts/{alert}/acknowledge"),
        json!({"decision": "geen_actie", "reason": ACK_REASON}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        &vt,
        "/api/v1/households/H-0001/break-glass",
        json!({"reason": GLASS_REASON}),
    )
    .await
    .expect(StatusCode::CREATED);
    app.record(
        &cm,
        "H-0001",
        json!({"type": "closure", "at": "2025-09-01T09:00:00+02:00",
        "reason": CLOSURE_REASON}),
    )
    .await
    .expect(StatusCode::CREATED);
    (cm, rg)
}

pub(crate) const TEXTS: [&str; 5] = [
    SCORE_REASON,
    DESCRIPTION,
    CLOSURE_REASON,
    ACK_REASON,
    GLASS_REASON,
];

/// Everything the database holds, as an attacker with a copy sees it: the SQLite files' bytes
/// (the database and its write-ahead log), or every row of every table on PostgreSQL.
async fn raw_database(app: &TestApp) -> Vec<u8> {
    let url = app.settings.database_url();
    if url.starts_with("sqlite") {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(&app.settings.data_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains("zicht.db") {
                bytes.extend(std::fs::read(&path).unwrap());
            }
        }
        assert!(bytes.len() > 10_000, "the database files were read");
        return bytes;
    }
    let db = Db::connect(&url, 1).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut bytes = Vec::new();
    for table in tables {
        let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT string_agg(t::text, E'\\n') FROM {table} t"
        )))
        .fetch_one(db.pool())
        .await
        .unwrap();
        bytes.extend(rows.unwrap_or_default().into_bytes());
    }
    db.close().await;
    bytes
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// Every text zicht shows about H-0001, read back through a fresh start on `app`'s settings.
async fn read_back(app: &TestApp) -> String {
    let started = AppState::start(app.settings.clone(), Arc::new(app.clock.clone()))
        .await
        .expect("the app starts with its key");
    let db = &started.state.db;
    let mut conn = db.acquire().await.unwrap();
    let id: HouseholdId = "H-0001".parse().unwrap();
    let mut out = String::new();
    for row in store::timeline(&mut conn, db.keys(), &id, None, 100)
        .await
        .unwrap()
    {
        out.push_str(&serde_json::to_string(&row.event).unwrap());
    }
    let alerts: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM alerts WHERE household_id = 'H-0001'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    for alert in alerts {
        for t in store::transitions(&mut conn, db.keys(), alert)
            .await
            .unwrap()
        {
            out.push_str(t.reason.as_deref().unwrap_or_default());
        }
    }
    for g in store::glass::list(&mut conn, db.keys(), Some(&id), 10)
        .await
        .unwrap()
    {
        out.push_str(g.reason.as_str());
    }
    drop(conn);
    db.close().await;
    out
}

both! {
    async fn a_copied_database_holds_no_free_text_and_the_key_reads_it_back(app: TestApp) {
        let (cm, rg) = write_texts(&app).await;
        let raw = raw_database(&app).await;
        for text in TEXTS {
            assert!(!holds(&raw, text), "{text} lies in the database in plain text");
        }
        // What the database holds is sealed under the key, bound to its household.
        let sealed = app.scalar("SELECT COUNT(*) FROM events WHERE payload NOT LIKE 'v1:%'").await;
        assert_eq!(sealed, 0);
        // The API and a fresh start read every text back.
        let timeline = serde_json::to_string(&app.timeline(&rg, "H-0001").await).unwrap();
        for text in [SCORE_REASON, DESCRIPTION, CLOSURE_REASON] {
            assert!(timeline.contains(text), "{text} is not on the timeline");
        }
        let all = read_back(&app).await;
        for text in TEXTS {
            assert!(all.contains(text), "{text} was not read back");
        }
        // A retry of the saved request gets the first response, text and all.
        let retry = app.post_with_key(&cm, "/api/v1/households/H-0001/events", "k-1", json!({
            "type": "intervention", "at": "2025-01-07T10:00:00+01:00",
            "description": DESCRIPTION}))
            .await.expect(StatusCode::CREATED);
        assert_eq!(retry.body["description"], DESCRIPTION, "{}", retry.text);
        assert!(app.settings.key_file().exists(), "the key file lies beside the data");
        let key = std::fs::read_to_string(app.settings.key_file()).unwrap();
        assert!(key.contains("BACK THIS FILE UP"));
    }

    async fn a_wrong_key_stops_the_start_with_a_clear_error(app: TestApp) {
        write_texts(&app).await;
        let dir = tempfile::tempdir().unwrap();
        // Another key file, made by another installation.
        let mut other = app.settings.clone();
        other.key_file = Some(dir.path().join("other.key"));
        std::fs::write(other.key_file(), "abc123 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
        let err = AppState::start(other.clone(), Arc::new(app.clock.clone())).await.err()
            .expect("a wrong key does not start");
        assert!(err.to_string().contains("which the key ring does not hold"), "{err}");
        // The same key id with other bytes: the text does not open.
        let ours = std::fs::read_to_string(app.settings.key_file()).unwrap();
        let id = ours.lines().find(|l| !l.starts_with('#')).unwrap().split(' ').next().unwrap();
        std::fs::write(other.key_file(), format!("{id} AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")).unwrap();
        let err = AppState::start(other.clone(), Arc::new(app.clock.clone())).await.err()
            .expect("a wrong key does not start");
        assert!(err.to_string().contains("does not open"), "{err}");
        // No key file at all, with sealed text stored: no fresh key is made over it.
        other.key_file = Some(dir.path().join("missing.key"));
        let err = AppState::start(other.clone(), Arc::new(app.clock.clone())).await.err()
            .expect("a missing key does not start");
        assert!(err.to_string().contains("restore the key file"), "{err}");
        assert!(!other.key_file().exists());
    }

    async fn a_ciphertext_moved_to_another_household_does_not_open(app: TestApp) {
        let (_, rg) = write_texts(&app).await;
        // Someone with database access copies H-0001's score (with its reason) over H-0002's.
        let from = app.scalar("SELECT MIN(id) FROM events WHERE household_id = 'H-0001' AND type = 'score'").await;
        let to = app.scalar("SELECT MIN(id) FROM events WHERE household_id = 'H-0002' AND type = 'score'").await;
        app.execute(&format!(
            "UPDATE events SET payload = (SELECT payload FROM events WHERE id = {from}) WHERE id = {to}"
        )).await.unwrap();
        let reply = app.get(&rg, "/api/v1/households/H-0002/timeline").await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!reply.text.contains(SCORE_REASON));
        let mut conn = app.state.db.acquire().await.unwrap();
        let err = store::timeline(&mut conn, app.state.db.keys(), &"H-0002".parse().unwrap(), None, 10)
            .await.expect_err("the moved text does not open");
        assert!(matches!(err, StoreError::Undecryptable(_)), "{err}");
    }

    async fn a_rotation_reseals_every_text_under_the_new_key(app: TestApp) {
        write_texts(&app).await;
        let old = app.state.db.keys().current_id().unwrap().to_owned();
        let mut seen = Vec::new();
        // Small batches, so that the rotation takes several transactions.
        let rotated = zicht::app::keys::rotate(&app.state.db, 2, zicht::clock::Clock::now(&app.clock), |done, total| {
            seen.push((done, total));
        }).await.unwrap();
        assert_eq!(rotated.from, std::slice::from_ref(&old));
        assert_ne!(rotated.to, old);
        let total = seen.last().unwrap().1;
        // 5 events, a decision, a break-the-glass reason and a saved response.
        assert!(total == 8 && seen.len() > 3, "{seen:?}");
        assert_eq!(seen.last().unwrap().0, total);
        for (table, column) in [("events", "payload"), ("alert_transitions", "reason"),
            ("glass_access", "reason"), ("signal_reports", "payload"), ("idempotency_keys", "body")] {
            let left = app.scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} LIKE 'v1:{old}:%'")).await;
            assert_eq!(left, 0, "{table} holds texts under the old key");
        }
        let key = std::fs::read_to_string(app.settings.key_file()).unwrap();
        assert!(!key.contains(&old) && key.contains(&rotated.to), "only the new key is kept");
        let all = read_back(&app).await;
        for text in TEXTS {
            assert!(all.contains(text), "{text} was not read back after the rotation");
        }
        let raw = raw_database(&app).await;
        assert!(!TEXTS.iter().any(|t| holds(&raw, t)));
        let audited = app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'keys.rotate'").await;
        assert_eq!(audited, 1);
    }

    async fn an_interrupted_rotation_reads_both_keys_and_resumes(app: TestApp) {
        write_texts(&app).await;
        let old = app.state.db.keys().current_id().unwrap().to_owned();
        // The rotation stops after its first batch: the key file holds the new key and the old.
        let keys = app.state.db.keys().begin_rotation().unwrap();
        let new = keys.current_id().unwrap().to_owned();
        let db = app.state.db.clone().with_keys(keys);
        assert_eq!(zicht::store::crypt::reseal(&db, db.keys(), 3).await.unwrap(), 3);
        assert!(app.scalar(&format!("SELECT COUNT(*) FROM events WHERE payload LIKE 'v1:{old}:%'")).await > 0);
        // A start in between reads texts under either key.
        let all = read_back(&app).await;
        assert!(TEXTS.iter().all(|t| all.contains(t)));
        // Run again, it finishes under the same new key.
        let rotated = zicht::app::keys::rotate(&app.state.db, 100, zicht::clock::Clock::now(&app.clock), |_, _| {})
            .await.unwrap();
        assert_eq!((rotated.to.as_str(), rotated.resealed), (new.as_str(), 5));
        assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM events WHERE payload LIKE 'v1:{old}:%'")).await, 0);
        let all = read_back(&app).await;
        assert!(TEXTS.iter().all(|t| all.contains(t)));
    }

    async fn plain_text_from_before_encryption_is_sealed_on_migrate(app: TestApp) {
        write_texts(&app).await;
        // An older database: one event's payload in plain text, and the flag its migration sets.
        let db = &app.state.db;
        let mut conn = db.acquire().await.unwrap();
        let id: HouseholdId = "H-0001".parse().unwrap();
        let (event_id, event): (i64, Event) = store::timeline(&mut conn, db.keys(), &id, None, 1)
            .await.unwrap().into_iter().map(|r| (r.id, r.event)).next().unwrap();
        let plain = serde_json::to_string(&event).unwrap();
        assert!(plain.contains(SCORE_REASON));
        sqlx::query("UPDATE events SET payload = $1 WHERE id = $2").bind(&plain).bind(event_id)
            .execute(&mut *conn).await.unwrap();
        sqlx::query("UPDATE crypt_state SET plaintext = 1").execute(&mut *conn).await.unwrap();
        let row = sqlx::query("SELECT payload FROM events WHERE id = $1").bind(event_id)
            .fetch_one(&mut *conn).await.unwrap();
        assert!(row.get::<String, _>("payload").contains(SCORE_REASON));
        drop(conn);
        db.migrate().await.unwrap();
        assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE payload NOT LIKE 'v1:%'").await, 0);
        assert_eq!(app.scalar("SELECT plaintext FROM crypt_state").await, 0);
        assert!(read_back(&app).await.contains(SCORE_REASON));
    }
}
