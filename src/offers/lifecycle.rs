//! The offer state machine: one pure function, tested over every
//! status × action pair.
//!
//! ```text
//! draft --send--> sent --accept--> accepted
//!   |               |---decline--> declined
//!   +--withdraw-----+--withdraw--> withdrawn
//! sent past valid_until reads as expired (terminal)
//! ```

use chrono::{DateTime, Utc};

use super::dto::OfferStatus;
use crate::auth::Action;

text_enum! {
    pub enum OfferAction { Send = "send", Accept = "accept", Decline = "decline", Withdraw = "withdraw" }
}

impl OfferAction {
    /// The word in the audit trail: `offer.<past tense>`.
    pub fn past_tense(self) -> &'static str {
        match self {
            OfferAction::Send => "sent",
            OfferAction::Accept => "accepted",
            OfferAction::Decline => "declined",
            OfferAction::Withdraw => "withdrawn",
        }
    }

    /// The permission it takes: the stakeholder's answer is `Respond`, the
    /// company's own moves are `Transition`.
    pub fn permission(self) -> Action {
        match self {
            OfferAction::Accept | OfferAction::Decline => Action::Respond,
            OfferAction::Send | OfferAction::Withdraw => Action::Transition,
        }
    }
}

/// Why an action cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The action does not apply to the current status.
    WrongStatus { current: OfferStatus },
    /// Accept/decline before `valid_from`.
    NotYetValid,
    /// Sending an offer whose validity has already ended.
    ValidityEnded,
}

impl Refusal {
    pub fn message(&self, action: OfferAction) -> String {
        match self {
            Refusal::WrongStatus { current } => format!("cannot {action} an offer whose status is {current}"),
            Refusal::NotYetValid => format!("cannot {action} the offer before its valid_from"),
            Refusal::ValidityEnded => format!("cannot {action} an offer whose valid_until has passed"),
        }
    }
}

/// The status a stored offer reads as: `sent` past `valid_until` is `expired`.
pub fn effective_status(stored: OfferStatus, valid_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> OfferStatus {
    match (stored, valid_until) {
        (OfferStatus::Sent, Some(until)) if until <= now => OfferStatus::Expired,
        (s, _) => s,
    }
}

/// The status after `action`, given the offer's effective status and validity window.
pub fn transition(
    current: OfferStatus,
    action: OfferAction,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<OfferStatus, Refusal> {
    use OfferAction as A;
    use OfferStatus as S;
    let next = match (current, action) {
        (S::Draft, A::Send) => S::Sent,
        (S::Sent, A::Accept) => S::Accepted,
        (S::Sent, A::Decline) => S::Declined,
        (S::Draft | S::Sent, A::Withdraw) => S::Withdrawn,
        _ => return Err(Refusal::WrongStatus { current }),
    };
    match action {
        A::Send if valid_until.is_some_and(|u| u <= now) => Err(Refusal::ValidityEnded),
        A::Accept | A::Decline if valid_from.is_some_and(|f| f > now) => Err(Refusal::NotYetValid),
        _ => Ok(next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OfferAction as A;
    use OfferStatus as S;
    use chrono::Duration;

    /// Every status × action pair with an open validity window.
    #[test]
    fn every_status_action_pair() {
        let now = Utc::now();
        let expected = |s: S, a: A| -> Option<S> {
            match (s, a) {
                (S::Draft, A::Send) => Some(S::Sent),
                (S::Sent, A::Accept) => Some(S::Accepted),
                (S::Sent, A::Decline) => Some(S::Declined),
                (S::Draft, A::Withdraw) | (S::Sent, A::Withdraw) => Some(S::Withdrawn),
                _ => None,
            }
        };
        for &s in S::ALL {
            for &a in A::ALL {
                let got = transition(s, a, None, None, now);
                match expected(s, a) {
                    Some(next) => assert_eq!(got, Ok(next), "{s} --{a}-->"),
                    None => assert_eq!(got, Err(Refusal::WrongStatus { current: s }), "{s} --{a}--> must be refused"),
                }
            }
        }
    }

    #[test]
    fn validity_window() {
        let now = Utc::now();
        let past = Some(now - Duration::hours(1));
        let future = Some(now + Duration::hours(1));
        assert_eq!(transition(S::Sent, A::Accept, future, None, now), Err(Refusal::NotYetValid));
        assert_eq!(transition(S::Sent, A::Decline, future, None, now), Err(Refusal::NotYetValid));
        assert_eq!(transition(S::Sent, A::Accept, past, future, now), Ok(S::Accepted));
        assert_eq!(transition(S::Draft, A::Send, None, past, now), Err(Refusal::ValidityEnded));
        assert_eq!(transition(S::Draft, A::Send, None, future, now), Ok(S::Sent));
        // A sent offer past valid_until is expired, and expired is terminal.
        let status = effective_status(S::Sent, past, now);
        assert_eq!(status, S::Expired);
        for &a in A::ALL {
            assert_eq!(transition(status, a, None, past, now), Err(Refusal::WrongStatus { current: S::Expired }));
        }
        assert_eq!(effective_status(S::Sent, future, now), S::Sent);
        assert_eq!(effective_status(S::Accepted, past, now), S::Accepted);
        assert_eq!(effective_status(S::Draft, past, now), S::Draft);
    }

    #[test]
    fn refusals_name_the_current_status() {
        let r = transition(S::Accepted, A::Withdraw, None, None, Utc::now()).unwrap_err();
        assert_eq!(r.message(A::Withdraw), "cannot withdraw an offer whose status is accepted");
    }
}
