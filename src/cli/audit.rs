//! `zicht audit verify` and `zicht audit head`: check the audit log's hash chain, and print its
//! head so that it can be kept elsewhere (a rewrite of the whole chain then shows too).

use super::AuditCommand;
use crate::config::Settings;
use crate::store;

pub(super) async fn audit(settings: Settings, cmd: AuditCommand) -> anyhow::Result<()> {
    let db = crate::app::open_db(&settings, 1).await?;
    db.migrate().await?;
    let mut conn = db.acquire().await?;
    match cmd {
        AuditCommand::Head => {
            let head = store::audit_head(&mut conn).await?;
            println!("{}", head_line(&head));
        }
        AuditCommand::Verify { head } => {
            let verdict = store::verify_audit(&mut conn, head.as_deref(), progress).await?;
            match verdict {
                Ok(head) => println!("audit chain intact: {}", head_line(&head)),
                Err(broken) => anyhow::bail!("audit chain broken at {broken}"),
            }
        }
    }
    Ok(())
}

/// The head as `zicht audit head` prints it and the scheduler logs it.
pub(crate) fn head_line(head: &store::ChainHead) -> String {
    format!("row {} (number {}) hash {}", head.id, head.seq, head.hash)
}

/// On standard error, every 10,000 rows of a chain longer than that.
fn progress(checked: i64, total: i64) {
    if total > 10_000 && (checked % 10_000 == 0 || checked == total) {
        eprintln!("checked {checked} of {total} audit rows");
    }
}
