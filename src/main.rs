//! `stdws`: the command-line server. Echoes on every path; `--help` lists the flags.

mod cli;

use cli::args::{self, Action, Args, Mode};
use std::process::ExitCode;
use std::time::Duration;
use stdws::{Config, OriginPolicy};

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stdws: {e}");
            return ExitCode::from(2);
        }
    };
    match &args.action {
        Action::Help => {
            print!("{}", args::help());
            ExitCode::SUCCESS
        }
        Action::Version => {
            println!("stdws {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Action::Explain(_) => {
            eprintln!("stdws: --explain is not available yet");
            ExitCode::from(2)
        }
        Action::Serve => serve(&args),
    }
}

/// The server's configuration from the command line.
fn config(args: &Args) -> Config {
    let origin = if args.same_origin {
        OriginPolicy::SameOrigin
    } else if !args.origins.is_empty() {
        OriginPolicy::Allow(args.origins.clone())
    } else {
        OriginPolicy::Any
    };
    Config {
        max_connections: args.max_conns,
        ping_interval: (args.ping_ms > 0).then(|| Duration::from_millis(args.ping_ms)),
        max_message_size: args.max_message_size,
        max_frame_size: args.max_message_size.min(Config::default().max_frame_size),
        protocols: args.protocols.clone(),
        origin,
        log: args.verbosity > 0,
        ..Config::default()
    }
}

fn serve(args: &Args) -> ExitCode {
    if args.mode != Mode::Echo {
        eprintln!("stdws: this mode is not available yet");
        return ExitCode::from(2);
    }
    let addr = (args.address.as_str(), args.port);
    let server = match stdws::Server::bind(addr, config(args)) {
        Ok(s) => s.on_http(cli::page::serve),
        Err(e) => {
            eprintln!(
                "stdws: cannot listen on {}:{}: {e}",
                args.address, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    match server.local_addr() {
        Ok(a) => eprintln!("stdws: listening on ws://{a}/ (echo; page at http://{a}/)"),
        Err(_) => eprintln!("stdws: listening"),
    }
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stdws: {e}");
            ExitCode::FAILURE
        }
    }
}
