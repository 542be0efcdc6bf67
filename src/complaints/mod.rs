//! Complaints: cases raised by a stakeholder, handled to resolution against an SLA.

pub mod dto;
pub mod lifecycle;
pub mod model;
pub mod repo;
pub mod routes;
