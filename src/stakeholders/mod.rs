//! Stakeholders: everyone the company keeps a relationship with.

pub mod consent;
pub mod dto;
pub mod model;
pub mod repo;
pub mod routes;
