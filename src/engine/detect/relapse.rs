//! Terugval: a confirmed drop below direct safety after it was reached (DESIGN.md section 3).

use super::{Facts, Found};
use crate::engine::rule::Rule;

pub(super) fn terugval(f: &Facts<'_>, rule: &Rule, found: &mut Found) {
    if let Some(r) = f.relapse() {
        found.due.extend(r.regained_at);
        found.hold(rule, rule.severity, r.confirmed, r.evidence.clone());
    }
}
