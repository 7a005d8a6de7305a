//! Fuzz target `fmt`: see the property `props::fmt`.
#![no_main]

#[path = "../props.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| props::fmt(data));
