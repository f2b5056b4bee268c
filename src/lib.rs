//! zicht: keeps sight of safety in households with structural domestic violence (MDA++).
//! `ARCHITECTURE.md` says how the modules are layered and where each behaviour lives.

// The layers, lowest first; a module imports only from the layers below it (checked by the
// test `layering` below).
pub mod clock;
pub mod config;
pub mod domain;
pub mod telemetry;

pub mod engine;
pub mod rules;
pub mod store;

pub mod auth;

pub mod app;

pub mod cli;
pub mod demo;
pub mod http;
pub mod workers;

#[cfg(test)]
mod layering;
