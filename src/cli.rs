//! The `crm-api` command line: serve | migrate | openapi | token | seed | import.

use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::auth::Role;
use crate::auth::jwt::{self, Claims, JwtAlgorithm, JwtVerifier, KeySource, SigningKey};
use crate::config::{Settings, parse_duration};
use crate::{db, startup, telemetry};

#[derive(Debug, Parser)]
#[command(name = "crm-api", version, about = "CRM backend: a JSON REST API over SQLite or PostgreSQL")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates first unless CRM_AUTO_MIGRATE=false).
    Serve {
        /// Without a configured JWT key: generate one for this run and print an admin token.
        #[arg(long)]
        dev: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Fill the database with realistic, deterministic data (benchmarks, demos).
    Seed {
        #[arg(long)]
        stakeholders: u64,
        /// Per stakeholder on average; a fraction such as 0.5 gives every other one.
        #[arg(long, default_value_t = 0.0, value_parser = per_stakeholder)]
        interactions_per: f64,
        /// Per stakeholder on average; a fraction such as 0.5 gives every other one.
        #[arg(long, default_value_t = 0.0, value_parser = per_stakeholder)]
        offers_per: f64,
        /// Per stakeholder on average; a fraction such as 0.5 gives every other one.
        #[arg(long, default_value_t = 0.0, value_parser = per_stakeholder)]
        complaints_per: f64,
        /// Relationships from each stakeholder to earlier ones, on average
        /// (employers, referrals, suppliers to partners, family).
        #[arg(long, default_value_t = 0.0, value_parser = per_stakeholder)]
        relationships_per: f64,
        #[arg(long, default_value_t = 42)]
        rng_seed: u64,
        /// Write a sample of stakeholder ids here (one per line), for load generators.
        #[arg(long)]
        ids_file: Option<std::path::PathBuf>,
        /// Stakeholders per transaction.
        #[arg(long, default_value_t = 10_000)]
        chunk: u64,
    },
    /// Import a CSV file (or `-` for stdin) into a resource, with the batch
    /// API's checks, as an admin. Exit codes: 0 all rows written, 1 some
    /// rows failed (see the error file), 2 usage, file or header error
    /// (nothing written), 3 `--atomic` with a failed row (nothing written),
    /// 4 database unreachable.
    Import(crate::import::Options),
    /// Sign a token with the configured key (HS256 secret, or --private-key-file).
    Token {
        #[arg(long)]
        role: String,
        #[arg(long)]
        sub: String,
        #[arg(long)]
        partner_id: Option<uuid::Uuid>,
        /// Lifetime, e.g. 30m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// PEM private key for RS256/ES256.
        #[arg(long)]
        private_key_file: Option<std::path::PathBuf>,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            println!("{}", openapi_json());
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::from_env()?;
            telemetry::init(settings.log_format);
            let pool = db::connect(&settings.database_url, db::PoolOptions::command(1))?;
            let ran = db::migrate(&mut *pool.get()?)?;
            println!("applied {ran} migration(s) to {}", db::redact_url(&settings.database_url));
            Ok(())
        }
        Command::Token { role, sub, partner_id, ttl, private_key_file } => {
            let settings = Settings::from_env()?;
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role:?}"))?;
            let ttl = parse_duration(&ttl).ok_or_else(|| anyhow::anyhow!("--ttl must look like 30m, 1h or 7d"))?;
            let key = match (private_key_file, &settings.jwt.key) {
                (Some(path), _) => SigningKey::PrivatePem(std::fs::read(&path)?),
                (None, Some(KeySource::Secret(s))) => SigningKey::Secret(s.clone()),
                _ => {
                    anyhow::bail!("set CRM_JWT_SECRET, or pass --private-key-file for RS256/ES256")
                }
            };
            let claims = claims(role, &sub, partner_id, ttl, &settings);
            println!("{}", jwt::sign(&claims, settings.jwt.algorithm, &key)?);
            Ok(())
        }
        Command::Serve { dev } => serve(dev),
        Command::Import(opts) => {
            let settings = match Settings::from_env() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::exit(crate::import::Exit::Usage as i32);
                }
            };
            let exit = crate::import::run(&opts, &settings);
            std::process::exit(exit as i32)
        }
        Command::Seed {
            stakeholders,
            interactions_per,
            offers_per,
            complaints_per,
            relationships_per,
            rng_seed,
            ids_file,
            chunk,
        } => {
            let settings = Settings::from_env()?;
            let pool = db::connect(&settings.database_url, db::PoolOptions::command(1))?;
            let mut conn = pool.get()?;
            if settings.auto_migrate {
                db::migrate(&mut conn)?;
            }
            let opts = crate::seed::SeedOptions {
                stakeholders,
                interactions_per,
                offers_per,
                complaints_per,
                relationships_per,
                rng_seed,
                ids_file,
                chunk: chunk.max(1),
            };
            let r = crate::seed::run(&mut conn, &opts, settings.sla)?;
            println!(
                "seeded {} stakeholders ({} tags, {} stage changes, {} interactions, {} offers, {} complaints, {} relationships) \
                 in {:.1} s: {:.0} stakeholders/s, {:.0} rows/s",
                r.stakeholders,
                r.tags,
                r.stage_changes,
                r.interactions,
                r.offers,
                r.complaints,
                r.relationships,
                r.seconds,
                r.stakeholders as f64 / r.seconds.max(1e-9),
                r.rows() as f64 / r.seconds.max(1e-9)
            );
            Ok(())
        }
    }
}

/// A per-stakeholder count: a finite number from 0 to 1000.
fn per_stakeholder(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number from 0 to 1000")),
    }
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    startup::openapi().to_pretty_json().expect("the OpenAPI document serialises")
}

fn claims(role: Role, sub: &str, partner_id: Option<uuid::Uuid>, ttl: std::time::Duration, s: &Settings) -> Claims {
    let now = Utc::now().timestamp();
    Claims {
        sub: sub.to_owned(),
        role: Some(role.as_str().to_owned()),
        partner_id: partner_id.map(|p| p.to_string()),
        exp: now + ttl.as_secs() as i64,
        nbf: Some(now),
        iat: Some(now),
        iss: s.jwt.issuer.clone(),
        aud: s.jwt.audience.clone().map(crate::auth::jwt::Audience::One),
    }
}

fn serve(dev: bool) -> anyhow::Result<()> {
    let mut settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    if settings.jwt.key.is_none() {
        if !dev {
            anyhow::bail!(
                "no JWT key configured: set CRM_JWT_SECRET (HS256, at least 32 bytes) or CRM_JWT_PUBLIC_KEY_FILE \
                 (RS256/ES256), or run `crm-api serve --dev` for a throw-away key"
            );
        }
        let secret = jwt::random_secret();
        settings.jwt.key = Some(KeySource::Secret(secret.clone()));
        settings.jwt.algorithm = JwtAlgorithm::Hs256;
        let c = claims(Role::Admin, "dev-admin", None, std::time::Duration::from_secs(12 * 3600), &settings);
        let token = jwt::sign(&c, JwtAlgorithm::Hs256, &SigningKey::Secret(secret))?;
        eprintln!("--dev: generated a JWT key for this run. Admin token (12 h):\n{token}\n");
    }
    let key = settings.jwt.key.clone().expect("set above");
    let verifier = JwtVerifier::new(
        &key,
        settings.jwt.algorithm,
        settings.jwt.issuer.as_deref(),
        settings.jwt.audience.as_deref(),
    )?;
    if settings.auto_migrate {
        // On a connection of its own: a migration may run longer than the
        // statement timeout that request connections carry.
        let ran = db::migrate(&mut *db::connect(&settings.database_url, db::PoolOptions::command(1))?.get()?)?;
        tracing::info!(migrations = ran, "database migrated");
    }
    let pool = db::connect(&settings.database_url, settings.pool_options())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let app = startup::Application::build(settings.clone(), pool, verifier)?;
        tracing::info!(listen = %settings.listen, port = app.port(), database = %db::redact_url(&settings.database_url), "serving");
        app.run_until_stopped().await?;
        Ok(())
    })
}
