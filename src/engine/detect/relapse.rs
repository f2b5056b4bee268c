//! Terugval: direct safety lost after it was reached.

use super::{Facts, Found};
use crate::engine::rule::Rule;

pub(super) fn terugval(f: &Facts<'_>, rule: &Rule, found: &mut Found) {
    if let Some((start, evidence)) = f.relapse() {
        found.hold(rule, rule.severity, start, evidence);
    }
}
