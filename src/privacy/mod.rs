//! The protection of personal data: the audit log (`GET /api/v1/audit-events`)
//! and the stakeholder export. Consent with legal basis lives with the
//! stakeholder it belongs to.

pub mod dto;
pub mod export;
pub mod model;
pub mod repo;
pub mod routes;
