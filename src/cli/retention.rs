//! `zicht retention run [--dry-run]`: anonymise the closed trajectories past their region's
//! retention period (docs/security.md). Prints households and counts, never free text.

use anyhow::Context;

use crate::app::privacy;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::Region;

pub(super) async fn run(settings: Settings, dry_run: bool) -> anyhow::Result<()> {
    let mut by_region = Vec::new();
    for (region, years) in &settings.retention_years_by_region {
        let parsed: Region = region
            .parse()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("retention_years_by_region: unknown region {region}"))?;
        by_region.push((parsed, *years));
    }
    let years_of = |region: Region| {
        by_region
            .iter()
            .find(|(r, _)| *r == region)
            .map_or(settings.retention_years, |(_, y)| *y)
    };
    let db = crate::app::open_db(&settings, 1).await?;
    db.migrate().await?;
    let done = privacy::retention(&db, years_of, dry_run, SystemClock.now()).await?;
    let verb = if dry_run {
        "would be anonymised"
    } else {
        "anonymised"
    };
    for e in &done.expired {
        println!(
            "{} ({}, closed {}, {} events, {} alerts) {verb}",
            e.household,
            e.region.as_str(),
            e.closed_at.to_wire(),
            e.events,
            e.alerts
        );
    }
    println!("{} households {verb}", done.expired.len());
    if !dry_run {
        println!(
            "{} saved responses older than {} days removed",
            done.saved_responses,
            privacy::SAVED_RESPONSE_DAYS
        );
    }
    db.close().await;
    Ok(())
}
