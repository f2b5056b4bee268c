//! `zicht import FILE`: a history in the interchange format into the database.

use std::path::Path;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::store::Db;

pub(super) async fn import(settings: Settings, file: &Path) -> anyhow::Result<()> {
    let text = super::read_input(file)?;
    let now = SystemClock.now();
    let histories = crate::app::import::parse(&text, now)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let rules = super::rules::load(&settings.alerts_dir)?;
    let db = Db::connect(&settings.database_url(), 1).await?;
    db.migrate().await?;
    let total_events: usize = histories.iter().map(|h| h.events.len()).sum();
    eprintln!(
        "importing {} households with {total_events} events",
        histories.len()
    );
    let stored = crate::app::import::import(&db, &rules, &histories, now, |done, total| {
        if done == total || done % 50 == 0 {
            eprintln!("  {done}/{total} households");
        }
    })
    .await?;
    db.close().await;
    println!(
        "imported {} households and {stored} events",
        histories.len()
    );
    Ok(())
}
