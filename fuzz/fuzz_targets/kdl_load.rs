//! Fuzz target `kdl_load`: see the property `props::kdl_load`.
#![no_main]

#[path = "../props.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| props::kdl_load(data));
