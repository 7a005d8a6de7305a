//! Fuzz target `saved_plan`: see the property `props::saved_plan`.
#![no_main]

#[path = "../props.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| props::saved_plan(data));
