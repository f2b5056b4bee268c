//! Live pages: the server-sent events of `/live` over the session cookie. Refused without a session
//! and from another site; an event when something changes on one's own households, nothing for
//! someone else's; one audit row per stream, not per event; and the stream ends on shutdown.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{TestApp, both};
use crate::web::{PASSWORD, browser, sign_in, with_password};

/// One server-sent event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Sent {
    event: String,
    data: String,
    id: String,
}

enum Next {
    Event(Sent),
    /// Nothing within the wait.
    Quiet,
    /// The server ended the stream.
    Ended,
}

/// An open stream, read as a browser's `EventSource` would.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, session: &str, path: &str) -> Events {
        let response = browser()
            .get(app.url(path))
            .header("cookie", session)
            .header("accept", "text/event-stream")
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events {
            response,
            buffer: String::new(),
        }
    }

    async fn next(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut sent = Sent::default();
                for line in block.lines() {
                    let field =
                        |name: &str| line.strip_prefix(name).map(|v| v.trim_start().to_owned());
                    if let Some(v) = field("event:") {
                        sent.event = v;
                    } else if let Some(v) = field("data:") {
                        sent.data = v;
                    } else if let Some(v) = field("id:") {
                        sent.id = v;
                    }
                }
                // A comment (the keep-alive) is no event.
                if !sent.event.is_empty() {
                    return Next::Event(sent);
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return Next::Quiet,
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None) | Err(_)) => return Next::Ended,
            }
        }
    }

    /// The next event; fails the test when none comes within 10 s.
    async fn expect(&mut self) -> Sent {
        match self.next(Duration::from_secs(10)).await {
            Next::Event(sent) => sent,
            Next::Quiet => panic!("no event within 10 s"),
            Next::Ended => panic!("the stream ended"),
        }
    }

    /// Asserts that nothing is sent for a while (longer than a stream waits between looks).
    async fn expect_quiet(&mut self) {
        match self.next(Duration::from_millis(2500)).await {
            Next::Quiet => {}
            Next::Event(sent) => panic!("unexpected event {sent:?}"),
            Next::Ended => panic!("the stream ended"),
        }
    }
}

/// The audit rows of `action` for the user `username`.
async fn audited(app: &TestApp, username: &str, action: &str, outcome: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE actor = '{username}' AND action = '{action}' AND outcome = '{outcome}'"
    ))
    .await
}

both! {
    async fn the_live_stream_needs_a_session_from_this_site(app: TestApp) {
        with_password(&app, "rg1", "regisseur").await;
        app.user("rg2", "regisseur").await;
        app.household("H-0001", Some("rg1"), &[]).await;
        app.household("H-0009", Some("rg2"), &[]).await;
        let status = |path: &'static str, headers: Vec<(&'static str, String)>| {
            let url = app.url(path);
            async move {
                let mut request = browser().get(url);
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                request.send().await.unwrap().status()
            }
        };
        // Without a session: refused plainly, not sent to the sign-in page (EventSource stops).
        assert_eq!(status("/live", vec![]).await, StatusCode::UNAUTHORIZED);
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let cookie = || ("cookie", session.clone());
        // A page of another site cannot send the cookie (SameSite=Strict); were it sent anyway,
        // the browser says where the request comes from, and it is refused.
        assert_eq!(status("/live", vec![cookie(), ("sec-fetch-site", "cross-site".into())]).await, StatusCode::FORBIDDEN);
        assert_eq!(status("/live", vec![cookie(), ("sec-fetch-site", "same-site".into())]).await, StatusCode::FORBIDDEN);
        assert_eq!(status("/live", vec![cookie(), ("origin", "https://kwaad.example".into())]).await, StatusCode::FORBIDDEN);
        // Another regisseur's household reads as one that does not exist, audited as refused.
        assert_eq!(status("/live?huishouden=H-0009", vec![cookie()]).await, StatusCode::NOT_FOUND);
        assert_eq!(status("/live?huishouden=H-9999", vec![cookie()]).await, StatusCode::NOT_FOUND);
        assert_eq!(audited(&app, "rg1", "live.open", "denied").await, 2);
        assert_eq!(audited(&app, "rg1", "live.open", "ok").await, 0);

        let mut own = Events::open(&app, &session, "/live?huishouden=H-0001").await;
        let ready = own.expect().await;
        assert_eq!(ready.event, "ready");
        assert_eq!(ready.id, "0.1-0.0-0", "counts only: unread, work, household");
        assert_eq!(audited(&app, "rg1", "live.open", "ok").await, 1);

        // The stream ends when the session does: signed out, it stops.
        app.execute("DELETE FROM sessions").await.unwrap();
        // (No commit wakes it: it looks again within seconds on its own.)
        assert!(matches!(own.next(Duration::from_secs(10)).await, Next::Ended));
        assert_eq!(status("/live", vec![cookie()]).await, StatusCode::UNAUTHORIZED);
    }

    async fn a_score_on_ones_own_household_is_news_and_anothers_is_not(app: TestApp) {
        with_password(&app, "rg1", "regisseur").await;
        app.user("rg2", "regisseur").await;
        let cm = app.user("cm1", "casemanager").await;
        app.household("H-0001", Some("rg1"), &["cm1"]).await;
        app.household("H-0009", Some("rg2"), &["cm1"]).await;
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let mut queue = Events::open(&app, &session, "/live").await;
        let mut page = Events::open(&app, &session, "/live?huishouden=H-0001").await;
        assert_eq!(queue.expect().await.event, "ready");
        assert_eq!(page.expect().await.event, "ready");

        // Someone else's household: an alert fires there, and rg1 hears nothing.
        app.score(&cm, "H-0009", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0009", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM alerts WHERE household_id = 'H-0009' AND rule = 'uiteenlopende-scores'").await, 1);
        queue.expect_quiet().await;
        page.expect_quiet().await;

        // Their own: the victim far below the professional makes an alert fire.
        app.score(&cm, "H-0001", "professional", 8, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        app.score(&cm, "H-0001", "slachtoffer", 2, "2025-01-06T10:00:00+01:00").await.expect(StatusCode::CREATED);
        let mut heard = Vec::new();
        while heard.len() < 2 {
            let sent = queue.expect().await;
            if !heard.contains(&sent.event) {
                heard.push(sent.event.clone());
            }
            if sent.event == "unread" {
                assert_eq!(sent.data, "1", "the new unread count, and nothing about the household");
            }
            assert!(!sent.data.contains("H-0001") && !sent.id.contains("H-0001"), "{sent:?}");
        }
        heard.sort();
        assert_eq!(heard, ["queue", "unread"]);
        // The household page hears that its household changed.
        let mut changed = false;
        while !changed {
            let sent = page.expect().await;
            changed = sent.event == "household";
        }

        // A reconnecting browser sends the last id it had, and hears at once what it missed.
        let resumed = browser()
            .get(app.url("/live"))
            .header("cookie", &session)
            .header("last-event-id", "0.1-0.0-0")
            .send()
            .await
            .unwrap();
        let mut resumed = Events { response: resumed, buffer: String::new() };
        assert_eq!(resumed.expect().await.event, "ready");
        let mut missed = vec![resumed.expect().await.event, resumed.expect().await.event];
        missed.sort();
        assert_eq!(missed, ["queue", "unread"]);

        // One audit row per stream opened (three), none per event.
        assert_eq!(audited(&app, "rg1", "live.open", "ok").await, 3);
        let household_rows = app.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'rg1' AND household_id = 'H-0001'").await;
        assert_eq!(household_rows, 1, "only the page's stream names its household");
    }

    async fn shutting_down_ends_open_streams(app: TestApp) {
        with_password(&app, "rg1", "regisseur").await;
        let session = sign_in(&app, "rg1", PASSWORD).await.unwrap();
        let mut live = Events::open(&app, &session, "/live").await;
        assert_eq!(live.expect().await.event, "ready");
        // The API's inbox stream too: SIGTERM used to wait on it for ever.
        let inbox = browser()
            .get(app.url("/api/v1/inbox/stream"))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(inbox.status(), StatusCode::OK);
        let mut inbox = Events { response: inbox, buffer: String::new() };
        let took = app.shut_down().await;
        assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
        assert!(matches!(live.next(Duration::from_secs(5)).await, Next::Ended));
        assert!(matches!(inbox.next(Duration::from_secs(5)).await, Next::Ended));
        // Nothing else is served.
        assert!(browser().get(app.url("/healthz")).send().await.is_err());
    }
}
