//! The HTTP core every resource uses.

pub mod batch;
pub mod cache;
pub mod context;
pub mod error;
pub mod etag;
pub mod extract;
pub mod idempotency;
pub mod merge_patch;
pub mod metrics;
pub mod middleware;
pub mod pagination;
pub mod rate_limit;
