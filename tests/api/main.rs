//! The API test suite: the real app on a random loopback port, a fresh database per test, spoken to
//! over HTTP. Every storage-touching test runs on SQLite and on PostgreSQL (see `helpers::both!`).

mod helpers;

mod access;
mod admin;
mod agenda;
mod alerts;
mod audit;
mod crash;
mod crypt;
mod headers;
mod households;
mod import;
mod live;
mod matrix;
mod notify;
mod ops;
mod privacy;
mod reports;
mod security;
mod validation;
mod web;
