//! `baseline`: declarative compliance-as-code for AWS Organizations.
//!
//! The binary is a thin client of this library: [`lang`] turns KDL into a validated model,
//! [`graph`] orders it, [`expand`] turns declarations into per-account instances, and [`cli`]
//! wires the subcommands.

pub mod apply;
pub mod aws;
pub mod changelog;
pub mod cli;
pub mod coexist;
pub mod controls;
pub mod discover;
pub mod evidence;
pub mod expand;
pub mod findings;
pub mod graph;
pub mod iam;
pub mod import;
pub mod interrupt;
pub mod kinds;
pub mod lang;
pub mod logcmd;
pub mod notice;
pub mod org;
pub mod plan;
pub mod provider;
pub mod ratelimit;
pub mod reach;
pub mod render;
pub mod report;
pub mod rollup;
pub mod run;
pub mod saved;
