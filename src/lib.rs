//! zicht: keeps sight of safety in households with structural domestic violence (MDA++).
//! See `DESIGN.md` for the domain and the architecture.

pub mod alerting;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod http;
pub mod import;
pub mod notify;
pub mod rules;
pub mod store;
pub mod telemetry;
