//! The complaint state machine and SLA arithmetic: pure functions, tested
//! over every status × action pair.
//!
//! ```text
//! open --acknowledge--> acknowledged --start--> in_progress --resolve--> resolved --close--> closed
//!   +-------------------start--------------------^     ^                    |                 |
//!                        acknowledged --resolve--------+--------------------+                 |
//!                                      in_progress <--reopen-- resolved | closed --------------+
//! assign: any status but closed
//! ```

use chrono::{DateTime, Duration, Utc};

use super::dto::{ComplaintStatus, Severity};
use crate::auth::Action;
use crate::config::SlaTargets;

text_enum! {
    /// The name of an action: what the state machine and the role table decide on.
    pub enum ComplaintVerb {
        Acknowledge = "acknowledge", Start = "start", Resolve = "resolve", Close = "close",
        Reopen = "reopen", Assign = "assign",
    }
}

impl ComplaintVerb {
    /// The word in the audit trail: `complaint.<past tense>`.
    pub fn past_tense(self) -> &'static str {
        match self {
            ComplaintVerb::Acknowledge => "acknowledged",
            ComplaintVerb::Start => "started",
            ComplaintVerb::Resolve => "resolved",
            ComplaintVerb::Close => "closed",
            ComplaintVerb::Reopen => "reopened",
            ComplaintVerb::Assign => "assigned",
        }
    }

    /// The permission it takes in the role table.
    pub fn permission(self) -> Action {
        match self {
            ComplaintVerb::Assign => Action::Assign,
            _ => Action::Transition,
        }
    }
}

/// An action with the data it carries, so that a payload cannot be paired
/// with the wrong action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplaintAction {
    Acknowledge,
    Start,
    Resolve { resolution: String },
    Close { satisfaction: Option<i32> },
    Reopen,
    Assign { assignee_id: String },
}

impl ComplaintAction {
    pub fn verb(&self) -> ComplaintVerb {
        match self {
            ComplaintAction::Acknowledge => ComplaintVerb::Acknowledge,
            ComplaintAction::Start => ComplaintVerb::Start,
            ComplaintAction::Resolve { .. } => ComplaintVerb::Resolve,
            ComplaintAction::Close { .. } => ComplaintVerb::Close,
            ComplaintAction::Reopen => ComplaintVerb::Reopen,
            ComplaintAction::Assign { .. } => ComplaintVerb::Assign,
        }
    }
}

/// The status after `action`, or `Err(current)` when it does not apply.
pub fn transition(current: ComplaintStatus, action: ComplaintVerb) -> Result<ComplaintStatus, ComplaintStatus> {
    use ComplaintStatus as S;
    use ComplaintVerb as A;
    match (current, action) {
        (S::Open, A::Acknowledge) => Ok(S::Acknowledged),
        (S::Open | S::Acknowledged, A::Start) => Ok(S::InProgress),
        (S::Acknowledged | S::InProgress, A::Resolve) => Ok(S::Resolved),
        (S::Resolved, A::Close) => Ok(S::Closed),
        (S::Resolved | S::Closed, A::Reopen) => Ok(S::InProgress),
        (s, A::Assign) if s != S::Closed => Ok(s),
        (s, _) => Err(s),
    }
}

/// The SLA target of a severity.
pub fn sla(severity: Severity, targets: &SlaTargets) -> Duration {
    let d = match severity {
        Severity::Critical => targets.critical,
        Severity::High => targets.high,
        Severity::Medium => targets.medium,
        Severity::Low => targets.low,
    };
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

/// `created_at` + the severity's SLA.
pub fn due_at(created_at: DateTime<Utc>, severity: Severity, targets: &SlaTargets) -> DateTime<Utc> {
    created_at.checked_add_signed(sla(severity, targets)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a severity change may move `due_at`: only while the complaint is
/// unresolved (`open`, `acknowledged`, `in_progress`) and `due_at` has not
/// passed. Otherwise `due_at` is frozen, so a breach cannot be edited away.
pub fn due_at_movable(status: ComplaintStatus, due_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    use ComplaintStatus as S;
    matches!(status, S::Open | S::Acknowledged | S::InProgress) && now <= due_at
}

/// Resolved after `due_at`, or unresolved and `now` past it.
pub fn sla_breached(due_at: DateTime<Utc>, resolved_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match resolved_at {
        Some(r) => r > due_at,
        None => now > due_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComplaintStatus as S;
    use ComplaintVerb as A;

    #[test]
    fn every_status_action_pair() {
        let expected = |s: S, a: A| -> Option<S> {
            match (s, a) {
                (S::Open, A::Acknowledge) => Some(S::Acknowledged),
                (S::Open, A::Start) | (S::Acknowledged, A::Start) => Some(S::InProgress),
                (S::Acknowledged, A::Resolve) | (S::InProgress, A::Resolve) => Some(S::Resolved),
                (S::Resolved, A::Close) => Some(S::Closed),
                (S::Resolved, A::Reopen) | (S::Closed, A::Reopen) => Some(S::InProgress),
                (S::Open, A::Assign) => Some(S::Open),
                (S::Acknowledged, A::Assign) => Some(S::Acknowledged),
                (S::InProgress, A::Assign) => Some(S::InProgress),
                (S::Resolved, A::Assign) => Some(S::Resolved),
                _ => None,
            }
        };
        for &s in S::ALL {
            for &a in A::ALL {
                match expected(s, a) {
                    Some(next) => assert_eq!(transition(s, a), Ok(next), "{s} --{a}-->"),
                    None => assert_eq!(transition(s, a), Err(s), "{s} --{a}--> must be refused"),
                }
            }
        }
    }

    #[test]
    fn sla_arithmetic() {
        let t = SlaTargets::default();
        let created = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(due_at(created, Severity::Critical, &t).to_rfc3339(), "2026-11-23T14:00:00+00:00");
        assert_eq!(due_at(created, Severity::High, &t).to_rfc3339(), "2026-11-24T10:00:00+00:00");
        assert_eq!(due_at(created, Severity::Medium, &t).to_rfc3339(), "2026-11-26T10:00:00+00:00");
        assert_eq!(due_at(created, Severity::Low, &t).to_rfc3339(), "2026-11-30T10:00:00+00:00");
        let custom = SlaTargets { critical: std::time::Duration::from_secs(60), ..t };
        assert_eq!(due_at(created, Severity::Critical, &custom).to_rfc3339(), "2026-11-23T10:01:00+00:00");
    }

    #[test]
    fn breach_rules() {
        let due = Utc::now();
        let before = due - Duration::minutes(1);
        let after = due + Duration::minutes(1);
        assert!(!sla_breached(due, Some(before), after), "resolved in time stays met");
        assert!(sla_breached(due, Some(after), after), "resolved late is breached");
        assert!(!sla_breached(due, None, before), "open and not yet due");
        assert!(sla_breached(due, None, after), "open and overdue");
        assert!(!sla_breached(due, Some(due), after), "resolved exactly at due_at is met");
    }

    #[test]
    fn due_at_moves_only_while_unresolved_and_not_yet_due() {
        let due = Utc::now();
        let (before, after) = (due - Duration::minutes(1), due + Duration::minutes(1));
        for &s in S::ALL {
            let unresolved = matches!(s, S::Open | S::Acknowledged | S::InProgress);
            assert_eq!(due_at_movable(s, due, before), unresolved, "{s}, not yet due");
            assert_eq!(due_at_movable(s, due, due), unresolved, "{s}, due this instant");
            assert!(!due_at_movable(s, due, after), "{s}, overdue: frozen");
        }
    }
}
