//! Interactions: the contact and purchase history, on every channel.

pub mod dto;
pub mod model;
pub mod repo;
pub mod routes;
