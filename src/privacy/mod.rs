//! The protection of personal data: the audit log (`GET /api/v1/audit-events`).
//! Consent with legal basis lives with the stakeholder it belongs to.

pub mod dto;
pub mod model;
pub mod repo;
pub mod routes;
