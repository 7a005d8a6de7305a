//! Fuzz target `policy`: see the property `props::policy`.
#![no_main]

#[path = "../props.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| props::policy(data));
