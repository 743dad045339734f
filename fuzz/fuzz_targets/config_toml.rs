//! Arbitrary UTF-8 as `sluis.toml`: `Config::parse` must answer a configuration or its problems,
//! never panic. The file sits in a directory that does not exist, so relative secret files
//! cannot be read; the text is parsed once with no environment variables and once with every
//! variable set to a 32-byte value, so validation also gets past the secrets.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sluis_proxy::Config;

const PATH: &str = "/nonexistent/sluis.toml";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Config::parse(text, Path::new(PATH), &|_| None);
    let _ = Config::parse(text, Path::new(PATH), &|_| {
        Some("0123456789abcdef0123456789abcdef".to_owned())
    });
});
