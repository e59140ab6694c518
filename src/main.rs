//! `stdws`: the command-line server. Echoes on every path; `--help` lists the flags.

mod cli;

use cli::args::{self, Action};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stdws: {e}");
            return ExitCode::from(2);
        }
    };
    match args.action {
        Action::Help => {
            print!("{}", args::help());
            ExitCode::SUCCESS
        }
        Action::Version => {
            println!("stdws {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Action::Serve => serve(&args),
    }
}

fn serve(args: &args::Args) -> ExitCode {
    let addr = (args.address.as_str(), args.port);
    let server = match stdws::Server::bind(addr, stdws::Config::default()) {
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
