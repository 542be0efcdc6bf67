//! Measurement (`contracts/analytics.md`): five read-only endpoints over the
//! portfolio, interactions, the lifecycle (from the stage history), offers
//! and complaints. `window` holds the common rules, `measures` the pinned
//! arithmetic, `repo` the rows read, `compute` the measures from them.

pub mod compute;
pub mod dto;
pub mod measures;
pub mod repo;
pub mod routes;
pub mod window;
