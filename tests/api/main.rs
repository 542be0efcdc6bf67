//! Black-box HTTP tests: one binary, every module below. `helpers`,
//! `offers`, `complaints` and `interactions` are folders whose `mod.rs`
//! declares their parts (the resources' tests by behaviour: create, edits,
//! lifecycle, roles, lists, …).

mod helpers;

mod analytics;
mod audit_log;
mod auth;
mod batch;
mod complaints;
mod consents;
mod erased_records;
mod erasure;
mod export;
mod hardening;
mod hardening_data;
mod http_core;
mod idempotency_store;
mod import;
mod interactions;
mod layers;
mod lifecycle;
mod offers;
mod openapi;
mod pii_hygiene;
mod rate_limits;
mod relationships;
mod resync;
mod sensitive_reads;
mod stakeholders;
mod stakeholders_lists;
mod stakeholders_writes;
