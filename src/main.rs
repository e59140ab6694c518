//! `stdws`: the command-line server. Echo by default; `--broadcast` relays between
//! the clients on a path; a PROGRAM after the flags is run per connection; `--explain`
//! teaches the handshakes; `--connect URL` is a client. `--help` lists every flag.
//!
//! On Unix, SIGINT and SIGTERM stop the server cleanly ([`cli::stop`]).

// The library forbids `unsafe`; the binary denies it everywhere but `cli::unix`.
#![deny(unsafe_code)]

mod cli;

use cli::args::{self, Action, Args, Mode};
use cli::broadcast::{self, Rooms};
use cli::exec::Exec;
use cli::inspect::{self, Inspector};
use cli::log::Log;
use cli::static_files::StaticFiles;
use cli::trace;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use stdws::tap::FrameEvent;
use stdws::{Config, OriginPolicy, Server};

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            cli::log::write_line(format_args!("{e}"));
            return ExitCode::from(2);
        }
    };
    match &args.action {
        Action::Help => to_stdout(args::HELP),
        Action::Version => to_stdout(concat!("stdws ", env!("CARGO_PKG_VERSION"), "\n")),
        Action::Explain(words) => match stdws::explain::from_words(words) {
            Ok(explanation) => to_stdout(&explanation.to_string()),
            Err(usage) => {
                cli::log::write_line(format_args!("{usage}"));
                ExitCode::from(2)
            }
        },
        Action::Connect(url) => cli::connect::run(&args, url),
        Action::Serve => serve(&args),
    }
}

/// Writes `text` to stdout: exit status 0, or 1 if stdout is closed. (Not `print!`,
/// which panics on a closed stdout and brings formatting machinery for stdout into
/// the binary for three plain strings.)
fn to_stdout(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
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
        memory_budget: args.max_memory,
        max_frame_size: args.max_message_size.min(Config::default().max_frame_size),
        protocols: args.protocols.clone(),
        deflate: args.deflate.then(|| args.deflate_memory.preferences()),
        origin,
        log: args.verbosity > 0,
        ..Config::default()
    }
}

/// What each upgraded connection gets, by the mode.
enum App {
    Echo,
    Broadcast(Arc<Rooms>),
    Exec(Arc<Exec>),
}

/// The app for each upgraded connection, chosen by the mode; the inspector's report
/// channel wherever the mode runs; `--trace` first prints the handshake's derivation.
fn with_mode(
    server: Server,
    args: &Args,
    log: Log,
    port: u16,
    inspector: Arc<Inspector>,
) -> Server {
    let app = match &args.mode {
        Mode::Echo => App::Echo,
        Mode::Broadcast => match &args.redis {
            None => App::Broadcast(Arc::new(Rooms::new(broadcast::DEFAULT_QUEUE, log))),
            Some(target) => match Rooms::with_redis(
                broadcast::DEFAULT_QUEUE,
                log,
                target.clone(),
                args.max_message_size,
            ) {
                Ok(rooms) => App::Broadcast(rooms),
                Err(e) => {
                    log.error(format_args!("cannot start the Redis thread: {e}"));
                    std::process::exit(1);
                }
            },
        },
        Mode::Exec {
            program,
            args: argv,
        } => App::Exec(Arc::new(Exec {
            program: program.clone(),
            args: argv.clone(),
            inherited: cli::cgi_env::passed_from_parent(&args.pass_env),
            close_wait: Duration::from_millis(args.close_ms),
            binary: args.binary,
            pass_stderr: args.pass_stderr,
            max_forks: args.max_forks,
            max_line: args.max_message_size,
            server_port: port,
            log,
            running: AtomicUsize::new(0),
        })),
    };
    let server = match &app {
        App::Exec(exec) => {
            let exec = exec.clone();
            server.on_upgrade(move |head, variant| match head.path() {
                inspect::EVENTS_PATH => Ok(()),
                _ => exec.admit(head, variant),
            })
        }
        App::Broadcast(rooms) => {
            let rooms = rooms.clone();
            server.on_upgrade(move |head, _| match head.path() {
                inspect::EVENTS_PATH => Ok(()),
                _ => rooms.admit(head),
            })
        }
        _ => server,
    };
    let trace = args.trace;
    server.on_connection(move |ws, request| {
        if trace {
            trace::handshake(request);
        }
        // The other apps out of line: this frame stays on every echo connection's
        // stack while it waits, and holds only what the echo needs.
        if request.path() == inspect::EVENTS_PATH {
            return out_of_line(|| inspector.serve_events(ws));
        }
        match &app {
            App::Echo => {
                let (reader, writer) = ws.split()?;
                let _lent = inspector.attach(request, &writer);
                Ok(stdws::echo::echo_split(reader, writer)?)
            }
            App::Broadcast(rooms) => out_of_line(|| rooms.serve(ws, request, &inspector)),
            App::Exec(exec) => out_of_line(|| exec.serve(ws, request, &inspector)),
        }
    })
}

/// Runs `f` in a frame of its own, so that its locals do not add to its caller's.
#[inline(never)]
fn out_of_line<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// Which connections are tapped: the one each inspector page presents a token for,
/// and with `--trace` every one, printed.
fn with_taps(server: Server, trace: bool, inspector: Arc<Inspector>) -> Server {
    server.on_tap(move |request| {
        let inspected = inspector.tap_for(request);
        if !trace {
            return inspected;
        }
        let peer = request.peer?;
        Some(Arc::new(move |event: &FrameEvent| {
            trace::frame(peer, event);
            if let Some(inspected) = &inspected {
                inspected(event);
            }
        }))
    })
}

fn serve(args: &Args) -> ExitCode {
    let log = Log {
        level: args.verbosity,
    };
    let addr = (args.address.as_str(), args.port);
    let server = match Server::bind(addr, config(args)) {
        Ok(s) => s,
        Err(e) => {
            log.error(format_args!(
                "cannot listen on {}:{}: {e}",
                args.address, args.port
            ));
            return ExitCode::FAILURE;
        }
    };
    let local = match server.local_addr() {
        Ok(a) => a,
        Err(e) => {
            log.error(format_args!("cannot read the listening address: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let server = match &args.static_dir {
        Some(dir) => match StaticFiles::new(dir) {
            Ok(files) => server.on_http(move |head| match head.path() {
                inspect::PAGE_PATH => inspect::page(),
                _ => files.serve(head),
            }),
            Err(e) => {
                log.error(format_args!("--staticdir {}: {e}", dir.display()));
                return ExitCode::from(2);
            }
        },
        None => server.on_http(inspect::serve_page),
    };
    let inspector = Arc::new(Inspector::default());
    let server = with_taps(server, args.trace, inspector.clone());
    let server = with_mode(server, args, log, local.port(), inspector);
    let (mode, program) = match &args.mode {
        Mode::Echo => ("echo", String::new()),
        Mode::Broadcast => match &args.redis {
            Some(target) => (
                "broadcast",
                format!(", rooms shared through redis {target}"),
            ),
            None => ("broadcast", String::new()),
        },
        Mode::Exec { program, .. } => ("exec ", program.clone()),
    };
    let (http, dir) = match &args.static_dir {
        Some(dir) => ("files from ", dir.display()),
        None => ("the inspector page", Path::new("").display()),
    };
    let listening = format_args!(
        "listening on ws://{local}/ ({mode}{program}; http://{local}/ serves {http}{dir})"
    );
    run(server, args.grace_ms, log, listening)
}

/// Serves until SIGINT or SIGTERM, then stops cleanly: every connection closed (1001,
/// or 0xFF 0x00), every exec program ended, up to `grace_ms` for all that; exit 0.
#[cfg(unix)]
fn run(server: Server, grace_ms: u64, log: Log, listening: fmt::Arguments<'_>) -> ExitCode {
    // Before the "listening" line: a signal sent as soon as it appears is handled.
    if let Err(e) = cli::unix::count_stop_signals() {
        log.error(format_args!("cannot handle SIGINT and SIGTERM: {e}"));
        return ExitCode::FAILURE;
    }
    let handle = match server.spawn() {
        Ok(h) => h,
        Err(e) => {
            log.error(format_args!("cannot start the server: {e}"));
            return ExitCode::FAILURE;
        }
    };
    log.info(listening);
    let signal = cli::stop::wait_for_signal();
    cli::stop::begin();
    log.info(format_args!(
        "{}: stopping; closing {} connection(s), up to {} ms",
        cli::stop::name(signal),
        handle.active_connections(),
        grace_ms
    ));
    cli::stop::exit_on_second_signal(log);
    handle.shutdown(Duration::from_millis(grace_ms));
    cli::reap::kill_all();
    log.info(format_args!("stopped"));
    ExitCode::SUCCESS
}

/// Serves for ever: without a signal API the process ends however its platform ends
/// it.
#[cfg(not(unix))]
fn run(server: Server, _grace_ms: u64, log: Log, listening: fmt::Arguments<'_>) -> ExitCode {
    log.info(listening);
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log.error(format_args!("{e}"));
            ExitCode::FAILURE
        }
    }
}
