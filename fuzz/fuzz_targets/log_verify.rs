//! Fuzz target `log_verify`: see the property `props::log_verify`.
#![no_main]

#[path = "../props.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| props::log_verify(data));
