//! JWT verification (and signing, for `crm-api token` and `--dev`).
//!
//! Exactly one algorithm is accepted: the configured one. That rejects
//! `alg: none` and algorithm confusion (an HS256 token "signed" with the
//! RS256 public key as secret) without special cases.

use std::path::PathBuf;
use std::str::FromStr;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Hs256,
    Rs256,
    Es256,
}

impl JwtAlgorithm {
    /// HS256 with a secret; RS256 when only a public key file is given.
    pub fn default_for(public_key: bool) -> Self {
        if public_key { Self::Rs256 } else { Self::Hs256 }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
        }
    }
}

impl FromStr for JwtAlgorithm {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "HS256" => Ok(Self::Hs256),
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            _ => anyhow::bail!("CRM_JWT_ALGORITHM must be HS256, RS256 or ES256, not {s:?}"),
        }
    }
}

/// Where the verification key comes from. `Debug` never prints the secret.
#[derive(Clone)]
pub enum KeySource {
    Secret(String),
    PublicKeyFile(PathBuf),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Secret(***)"),
            Self::PublicKeyFile(p) => write!(f, "PublicKeyFile({})", p.display()),
        }
    }
}

/// The claims this API reads. `role` stays a string here: an unknown role
/// is a 403 (authenticated, not allowed), not a 401.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl JwtVerifier {
    pub fn new(
        source: &KeySource,
        alg: JwtAlgorithm,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> anyhow::Result<Self> {
        let key = match (source, alg) {
            (KeySource::Secret(s), JwtAlgorithm::Hs256) => {
                if s.len() < 32 {
                    anyhow::bail!("CRM_JWT_SECRET must be at least 32 bytes");
                }
                DecodingKey::from_secret(s.as_bytes())
            }
            (KeySource::Secret(_), _) => anyhow::bail!("a shared secret only works with HS256"),
            (KeySource::PublicKeyFile(_), JwtAlgorithm::Hs256) => {
                anyhow::bail!("HS256 needs CRM_JWT_SECRET, not a public key file")
            }
            (KeySource::PublicKeyFile(path), alg) => {
                let pem = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read CRM_JWT_PUBLIC_KEY_FILE {}: {e}", path.display()))?;
                match alg {
                    JwtAlgorithm::Rs256 => DecodingKey::from_rsa_pem(&pem)?,
                    _ => DecodingKey::from_ec_pem(&pem)?,
                }
            }
        };
        let mut validation = Validation::new(alg.jwt());
        validation.leeway = 30;
        validation.validate_nbf = true;
        // A configured issuer/audience must be present, not just right when present.
        let mut required = vec!["exp", "sub"];
        required.extend(issuer.map(|_| "iss"));
        required.extend(audience.map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        match audience {
            Some(a) => validation.set_audience(&[a]),
            None => validation.validate_aud = false,
        }
        if let Some(i) = issuer {
            validation.set_issuer(&[i]);
        }
        Ok(Self { key, validation })
    }

    /// The claims of a valid token; the error text is safe to return.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        use jsonwebtoken::errors::ErrorKind as K;
        // RFC 7515 §4.1.11: a token that names extensions in `crit` must be
        // refused by a server that does not implement them (this one has none).
        match jsonwebtoken::decode_header(token) {
            Ok(h) if h.crit.is_some() => {
                return Err("the token's header lists critical extensions (crit) this server does not support".into());
            }
            Err(_) => return Err("the token is malformed".into()),
            Ok(_) => {}
        }
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map(|d| d.claims).map_err(|e| {
            match e.kind() {
                K::ExpiredSignature => "the token has expired",
                K::ImmatureSignature => "the token is not valid yet (nbf)",
                K::InvalidIssuer => "the token's issuer is not accepted",
                K::InvalidAudience => "the token's audience is not accepted",
                K::InvalidAlgorithm => "the token's algorithm is not accepted",
                K::InvalidSignature => "the token's signature is invalid",
                K::MissingRequiredClaim(_) => {
                    "the token lacks a required claim (exp, sub, and iss/aud where configured)"
                }
                _ => "the token is malformed",
            }
            .to_owned()
        })
    }
}

/// Signs a token (HS256 secret, or an RS256/ES256 private key PEM).
pub fn sign(claims: &Claims, alg: JwtAlgorithm, key: &SigningKey) -> anyhow::Result<String> {
    let key = match (key, alg) {
        (SigningKey::Secret(s), JwtAlgorithm::Hs256) => EncodingKey::from_secret(s.as_bytes()),
        (SigningKey::PrivatePem(p), JwtAlgorithm::Rs256) => EncodingKey::from_rsa_pem(p)?,
        (SigningKey::PrivatePem(p), JwtAlgorithm::Es256) => EncodingKey::from_ec_pem(p)?,
        _ => anyhow::bail!("HS256 signs with CRM_JWT_SECRET; RS256/ES256 with --private-key-file"),
    };
    Ok(jsonwebtoken::encode(&Header::new(alg.jwt()), claims, &key)?)
}

pub enum SigningKey {
    Secret(String),
    PrivatePem(Vec<u8>),
}

/// A random HS256 secret for `serve --dev`.
pub fn random_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
