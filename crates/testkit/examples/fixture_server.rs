//! A standalone dataset fixture upstream, for the load benchmark (`bench/run`) and for poking at
//! the fixture by hand.
//!
//! ```text
//! cargo run --release -p sluis-testkit --example fixture_server -- 127.0.0.1:18081
//! curl -s http://127.0.0.1:18081/v1/afvalwegingen/containers/1
//! ```
//!
//! Serves the default [`FixtureConfig`] data (same seed as the tests and `sluis demo`) on the
//! given address (default `127.0.0.1:18081`) on a multi-threaded tokio runtime with the default
//! number of worker threads (one per core). Prints `fixture listening on http://ADDR` once
//! bound, then serves until the process is terminated (SIGTERM or SIGINT).

use std::net::SocketAddr;
use std::process::ExitCode;

use sluis_testkit::{DatasetFixture, FixtureConfig};

#[tokio::main]
async fn main() -> ExitCode {
    let arg = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_owned());
    let listen: SocketAddr = match arg.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fixture_server: {arg:?} is not a socket address: {e}");
            return ExitCode::from(2);
        }
    };
    let config = FixtureConfig {
        listen,
        ..FixtureConfig::default()
    };
    let fixture = match DatasetFixture::start(config).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fixture_server: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("fixture listening on {}", fixture.base_url());
    // The process ends on a signal; there is nothing to flush.
    std::future::pending::<()>().await;
    drop(fixture);
    ExitCode::SUCCESS
}
