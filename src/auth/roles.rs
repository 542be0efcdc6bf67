//! Who may do what: the permission table (role × resource × action), the row
//! scope (a partner sees only its own stakeholders) and field redaction
//! (sensitive data; contact details masked for analysts). Handlers ask here;
//! they never compare role strings.

use uuid::Uuid;

text_enum! {
    /// The `role` claim of a token.
    pub enum Role { Admin = "admin", Manager = "manager", Agent = "agent", Analyst = "analyst", Partner = "partner" }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Stakeholders,
    Interactions,
    Offers,
    Complaints,
    Relationships,
    Analytics,
    AuditEvents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    /// Archive (stakeholders) or delete.
    Delete,
    Restore,
    /// See and set sensitive fields (`sensitive`, `income_band`).
    Sensitive,
    /// Lifecycle actions (offer send/withdraw, complaint acknowledge/…).
    Transition,
    /// Record the stakeholder's answer to an offer (accept/decline).
    Respond,
    Assign,
    /// Record consent changes with their legal basis.
    Consent,
    Export,
    Erase,
}

use Action::*;
use Resource::*;

/// The permission table. Anything not listed is forbidden.
const TABLE: &[(Role, Resource, &[Action])] = &[
    (Role::Admin, Stakeholders, &[Read, Create, Update, Delete, Restore, Sensitive, Consent, Export, Erase]),
    (Role::Admin, Interactions, &[Read, Create, Update, Delete]),
    (Role::Admin, Offers, &[Read, Create, Update, Delete, Transition, Respond]),
    (Role::Admin, Complaints, &[Read, Create, Update, Delete, Transition, Assign]),
    (Role::Admin, Relationships, &[Read, Create, Update, Delete]),
    (Role::Admin, Analytics, &[Read]),
    (Role::Admin, AuditEvents, &[Read]),
    (Role::Manager, Stakeholders, &[Read, Create, Update, Delete, Restore, Sensitive, Consent, Export]),
    (Role::Manager, Interactions, &[Read, Create, Update, Delete]),
    (Role::Manager, Offers, &[Read, Create, Update, Delete, Transition, Respond]),
    (Role::Manager, Complaints, &[Read, Create, Update, Delete, Transition, Assign]),
    (Role::Manager, Relationships, &[Read, Create, Update, Delete]),
    (Role::Manager, Analytics, &[Read]),
    (Role::Agent, Stakeholders, &[Read, Create, Update, Consent]),
    (Role::Agent, Interactions, &[Read, Create, Update]),
    (Role::Agent, Offers, &[Read, Create, Update, Transition, Respond]),
    (Role::Agent, Complaints, &[Read, Create, Update, Transition]),
    (Role::Agent, Relationships, &[Read, Create, Update]),
    (Role::Analyst, Stakeholders, &[Read]),
    (Role::Analyst, Interactions, &[Read]),
    (Role::Analyst, Offers, &[Read]),
    (Role::Analyst, Complaints, &[Read]),
    (Role::Analyst, Relationships, &[Read]),
    (Role::Analyst, Analytics, &[Read]),
    (Role::Partner, Stakeholders, &[Read]),
    (Role::Partner, Interactions, &[Read, Create]),
    (Role::Partner, Offers, &[Read, Respond]),
    (Role::Partner, Complaints, &[Read, Create]),
    // Only edges whose both ends are the partner's (the row scope).
    (Role::Partner, Relationships, &[Read]),
];

pub fn allowed(role: Role, resource: Resource, action: Action) -> bool {
    TABLE.iter().any(|(r, res, actions)| *r == role && *res == resource && actions.contains(&action))
}

/// Which rows a caller may see. `partner_id` set means: only stakeholders
/// shared with that partner, and records under them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowScope {
    pub partner_id: Option<Uuid>,
}

impl RowScope {
    pub const ALL: RowScope = RowScope { partner_id: None };
}

/// How contact details (e-mail, phone, street address) are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactView {
    Full,
    Masked,
}

/// What a role may see of a record's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldPolicy {
    /// `sensitive` and `income_band` are shown (still only with consent for `sensitive`).
    pub sensitive: bool,
    pub contact: ContactView,
}

pub fn field_policy(role: Role) -> FieldPolicy {
    FieldPolicy {
        sensitive: allowed(role, Stakeholders, Sensitive),
        contact: if role == Role::Analyst { ContactView::Masked } else { ContactView::Full },
    }
}

/// `jane.doe@example.com` → `j***@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// `+6281234567890` → `***********90` (the last two digits stay).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let keep = chars.len().min(2);
    let mut out: String = "*".repeat(chars.len() - keep);
    out.extend(&chars[chars.len() - keep..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table as the API contract states it, one row per role.
    #[test]
    fn stakeholder_permissions_match_the_contract() {
        let cases: &[(Role, &[Action], &[Action])] = &[
            (Role::Admin, &[Read, Create, Update, Delete, Restore, Sensitive, Erase], &[]),
            (Role::Manager, &[Read, Create, Update, Delete, Restore, Sensitive, Export], &[Erase]),
            (Role::Agent, &[Read, Create, Update], &[Delete, Restore, Sensitive, Erase, Export]),
            (Role::Analyst, &[Read], &[Create, Update, Delete, Restore, Sensitive, Erase]),
            (Role::Partner, &[Read], &[Create, Update, Delete, Restore, Sensitive, Erase]),
        ];
        for (role, yes, no) in cases {
            for a in *yes {
                assert!(allowed(*role, Stakeholders, *a), "{role:?} should be allowed {a:?}");
            }
            for a in *no {
                assert!(!allowed(*role, Stakeholders, *a), "{role:?} should not be allowed {a:?}");
            }
        }
    }

    #[test]
    fn only_admin_reads_the_audit_log_and_partners_create_only_cases_and_contacts() {
        for &role in Role::ALL {
            assert_eq!(allowed(role, AuditEvents, Read), role == Role::Admin);
        }
        assert!(allowed(Role::Partner, Interactions, Create));
        assert!(allowed(Role::Partner, Complaints, Create));
        assert!(!allowed(Role::Partner, Offers, Create));
        assert!(allowed(Role::Partner, Offers, Respond));
        assert!(!allowed(Role::Partner, Offers, Transition));
        assert!(!allowed(Role::Analyst, Offers, Respond));
        assert!(!allowed(Role::Agent, Complaints, Assign));
        assert!(allowed(Role::Manager, Complaints, Assign));
    }

    /// API.md: relationships as interactions (agents create and edit,
    /// managers delete, analysts read); partners read within their scope only.
    #[test]
    fn relationship_permissions_match_the_contract() {
        for &role in Role::ALL {
            assert!(allowed(role, Relationships, Read), "{role:?} reads");
            for action in [Create, Update, Delete] {
                let expected = match role {
                    Role::Partner | Role::Analyst => false,
                    Role::Agent => action != Delete,
                    Role::Admin | Role::Manager => true,
                };
                assert_eq!(allowed(role, Relationships, action), expected, "{role:?} {action:?}");
                assert_eq!(
                    allowed(role, Relationships, action),
                    allowed(role, Interactions, action) && role != Role::Partner
                );
            }
        }
    }

    #[test]
    fn field_policy_by_role() {
        assert_eq!(field_policy(Role::Admin), FieldPolicy { sensitive: true, contact: ContactView::Full });
        assert!(field_policy(Role::Manager).sensitive);
        assert_eq!(field_policy(Role::Agent), FieldPolicy { sensitive: false, contact: ContactView::Full });
        assert_eq!(field_policy(Role::Analyst), FieldPolicy { sensitive: false, contact: ContactView::Masked });
        assert!(!field_policy(Role::Partner).sensitive);
    }

    #[test]
    fn masking() {
        assert_eq!(mask_email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(mask_phone("+6281234567890"), "************90");
        assert_eq!(mask_phone("1"), "1");
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }
}
