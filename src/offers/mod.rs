//! Offers: personalised value propositions with a lifecycle.

pub mod dto;
pub mod lifecycle;
pub mod model;
pub mod repo;
pub mod routes;
