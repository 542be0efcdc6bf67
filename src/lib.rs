//! CRM API: the library behind the `crm-api` binary (tests drive it directly).

#[macro_use]
mod macros;

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod complaints;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod import;
pub mod interactions;
pub mod money;
pub mod offers;
pub mod openapi;
pub mod ops;
pub mod privacy;
pub mod relationships;
pub mod seed;
pub mod stakeholders;
pub mod startup;
pub mod state;
pub mod telemetry;
