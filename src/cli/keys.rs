//! `zicht keys rotate`: a new key for free text, every stored text sealed again under it.

use std::io::IsTerminal;

use super::KeysCommand;
use crate::app::keys;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;

pub(super) async fn keys(settings: Settings, cmd: KeysCommand) -> anyhow::Result<()> {
    let db = crate::app::open_db(&settings, 1).await?;
    db.migrate().await?;
    match cmd {
        KeysCommand::Rotate { batch } => {
            let bar = if std::io::stderr().is_terminal() {
                indicatif::ProgressBar::new(0)
            } else {
                indicatif::ProgressBar::hidden()
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} texts sealed again, {per_sec}, {eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let now = SystemClock.now();
            let rotated = keys::rotate(&db, batch.max(1), now, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await?;
            bar.finish_and_clear();
            println!(
                "key {} in use; {} texts sealed again; key {} removed from {}: back up the key file now",
                rotated.to,
                rotated.resealed,
                rotated.from.join(", "),
                settings.key_file().display()
            );
        }
    }
    db.close().await;
    Ok(())
}
