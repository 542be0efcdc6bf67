//! Relationships: typed edges between stakeholders (the network around each).

pub mod dto;
pub mod model;
pub mod network;
pub mod repo;
pub mod routes;
