//! `zicht serve`: the HTTP server and the background workers, until SIGTERM or Ctrl-C.

use std::sync::Arc;

use crate::app::AppState;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::http::App;
use crate::workers;

pub(super) async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let app = App::build(settings, Arc::new(SystemClock)).await?;
    if let Some(token) = &app.admin_token {
        // Printed to stdout, once, on the first start; never logged.
        println!("admin token: {token}");
    }
    if demo {
        match crate::demo::fill(&app.state).await? {
            Some(users) => {
                println!(
                    "demo: filled with a demo region; sign in at http://{}/inloggen as one of:",
                    app.addr
                );
                for (name, role) in users {
                    println!(
                        "  {name:<16} {:<17} password: {}",
                        role.as_str(),
                        crate::demo::PASSWORD
                    );
                }
            }
            None => println!("demo: the database is not empty; nothing added"),
        }
    }
    tracing::info!(addr = %app.addr, backend = ?app.state.db.backend(), "zicht listening");
    let stop = tokio_util::sync::CancellationToken::new();
    let scheduler = tokio::spawn(workers::scheduler(app.state.clone(), stop.clone()));
    let deliveries = tokio::spawn(workers::webhooks(app.state.clone(), stop.clone()));
    tokio::spawn(reload_on_hangup(app.state.clone()));
    let stopping = stop.clone();
    let state = app.state.clone();
    app.run(async move {
        shutdown_signal().await;
        stopping.cancel();
    })
    .await?;
    stop.cancel();
    let _ = scheduler.await;
    let _ = deliveries.await;
    // Only now: the workers record their last work through the pool.
    state.db.close().await;
    tracing::info!("zicht stopped");
    Ok(())
}

/// `kill -HUP` reloads the rules; an invalid set is refused and the old one stays in force.
async fn reload_on_hangup(state: Arc<AppState>) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            match state.reload_rules().await {
                Ok(n) => tracing::info!(rules = n, "rules reloaded"),
                Err(errors) => {
                    for e in &errors {
                        tracing::error!(error = %e, "rule reload refused; keeping the rules in force");
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = state;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
