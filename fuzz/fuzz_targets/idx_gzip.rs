#![no_main]
//! cargo fuzz target `idx_gzip`: see ../targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::idx_gzip(data));
