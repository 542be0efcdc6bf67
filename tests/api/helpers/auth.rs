//! Bearer tokens: the roles, claims and signatures the tests use.

use crm_api::auth::jwt::{self, Claims, JwtAlgorithm, KeySource, SigningKey};
use uuid::Uuid;

/// The HS256 secret every `TestApp` verifies with.
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

/// The roles a token can carry (the API's set, `src/auth/roles.rs`), as the
/// tests name them; `as_str()` is the `role` claim. A token with a role the
/// API does not know is made with `claims_with_role_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Manager,
    Agent,
    Analyst,
    Partner,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Manager, Role::Agent, Role::Analyst, Role::Partner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Analyst => "analyst",
            Role::Partner => "partner",
        }
    }
}

/// The claim value, so messages read `as agent` and `format!("{role}-user")` is the default `sub`.
impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A valid HS256 token for `role` (sub = `<role>-user`); `Role::Partner`
/// gets `PARTNER_A` unless made with `partner_token`.
pub fn token(role: Role) -> String {
    if role == Role::Partner {
        return partner_token(PARTNER_A);
    }
    sign(claims(role, &format!("{role}-user")))
}

pub const PARTNER_A: Uuid = Uuid::from_u128(0xa000_0000_0000_0000_0000_0000_0000_000a);
pub const PARTNER_B: Uuid = Uuid::from_u128(0xb000_0000_0000_0000_0000_0000_0000_000b);

pub fn partner_token(partner_id: Uuid) -> String {
    let mut c = claims(Role::Partner, &format!("partner-{partner_id}"));
    c.partner_id = Some(partner_id.to_string());
    sign(c)
}

/// Claims for `role` and `sub`, valid for an hour; no partner id, issuer or audience.
pub fn claims(role: Role, sub: &str) -> Claims {
    claims_with_role_str(role.as_str(), sub)
}

/// `claims` with any string as the `role` claim (`"root"`, `""`, `"ADMIN"`):
/// for the tests of what the API does with a role it does not know.
pub fn claims_with_role_str(role: &str, sub: &str) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: sub.to_owned(),
        role: Some(role.to_owned()),
        partner_id: None,
        exp: now + 3600,
        nbf: Some(now - 5),
        iat: Some(now),
        iss: None,
        aud: None,
    }
}

pub fn sign(c: Claims) -> String {
    jwt::sign(&c, JwtAlgorithm::Hs256, &SigningKey::Secret(SECRET.into())).unwrap()
}

pub fn sign_with(c: &Claims, alg: JwtAlgorithm, key: &SigningKey) -> String {
    jwt::sign(c, alg, key).unwrap()
}

/// Fixture paths for RS256/ES256 tests.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn key_source_for_tests() -> KeySource {
    KeySource::Secret(SECRET.into())
}
