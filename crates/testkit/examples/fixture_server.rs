//! A standalone dataset fixture upstream, for the load benchmark (`bench/run`) and for poking at
//! the fixture by hand.
//!
//! ```text
//! cargo run --release -p sluis-testkit --example fixture_server -- 127.0.0.1:18081 127.0.0.1:18085
//! curl -s http://127.0.0.1:18081/v1/afvalwegingen/containers/1
//! curl -s -X POST -H 'Content-Type: application/json' http://127.0.0.1:18085/haalcentraal/api/brp/personen \
//!   -d '{"type":"RaadpleegMetBurgerservicenummer","burgerservicenummer":["999993653"],"fields":["naam"]}'
//! ```
//!
//! Serves the default [`FixtureConfig`] data (same seed as the tests and `sluis demo`) on the
//! given address (default `127.0.0.1:18081`) and, when a second address is given, the BRP
//! Personen fixture ([`BrpFixtureConfig`] defaults: the persons `sluis demo` serves) on it, on a
//! multi-threaded tokio runtime with the default number of worker threads (one per core). Prints
//! `fixture listening on http://ADDR` (and `brp fixture listening on http://ADDR`, then
//! `brp fixture resident BSN`: a person in the own municipality) once bound,
//! then serves until the process is terminated (SIGTERM or SIGINT).

use std::net::SocketAddr;
use std::process::ExitCode;

use sluis_testkit::{BrpFixture, BrpFixtureConfig, DatasetFixture, FixtureConfig};

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
    let brp = match std::env::args().nth(2) {
        None => None,
        Some(arg) => {
            let Ok(listen) = arg.parse::<SocketAddr>() else {
                eprintln!("fixture_server: {arg:?} is not a socket address");
                return ExitCode::from(2);
            };
            match BrpFixture::start(BrpFixtureConfig {
                listen,
                ..BrpFixtureConfig::default()
            })
            .await
            {
                Ok(b) => {
                    println!("brp fixture listening on http://{}", b.addr());
                    // A person registered in the fixture's own municipality (the own-municipality
                    // rule of a BRP policy lets them through), for requests by hand or benchmark.
                    if let Some(bsn) = b.data().known().family.parents.first() {
                        println!("brp fixture resident {bsn}");
                    }
                    Some(b)
                }
                Err(e) => {
                    eprintln!("fixture_server: brp: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    // The process ends on a signal; there is nothing to flush.
    std::future::pending::<()>().await;
    drop(fixture);
    drop(brp);
    ExitCode::SUCCESS
}
