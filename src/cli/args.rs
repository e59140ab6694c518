//! The command line, parsed by hand: `--flag value` and `--flag=value` both work, as in
//! websocketd, whose flag names stdws uses where it has one.

use std::fmt;
use std::path::PathBuf;

/// Everything the command line chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Address to listen on.
    pub address: String,
    /// Port to listen on.
    pub port: u16,
    /// What to do.
    pub action: Action,
    /// What each connection gets.
    pub mode: Mode,
    /// Most connections at once (503 beyond).
    pub max_conns: usize,
    /// Keepalive ping interval in milliseconds (0: none).
    pub ping_ms: u64,
    /// Largest message in bytes (1009 beyond).
    pub max_message_size: usize,
    /// The memory budget in bytes: what the server may hold for its peers beyond
    /// each connection's allowance (1013 for whoever cannot be served in time).
    pub max_memory: usize,
    /// Allowed origins (`--origin`); empty: any.
    pub origins: Vec<String>,
    /// Origin must match Host (`--sameorigin`).
    pub same_origin: bool,
    /// Subprotocols accepted (`--protocol`).
    pub protocols: Vec<String>,
    /// Directory served to plain GET/HEAD requests.
    pub static_dir: Option<PathBuf>,
    /// Exec mode: most programs running at once.
    pub max_forks: usize,
    /// Exec mode: time a program gets to exit after its stdin closes, in ms.
    pub close_ms: u64,
    /// Exec mode: parent environment variables passed to the program.
    pub pass_env: Vec<String>,
    /// Exec mode: stdout bytes become binary messages.
    pub binary: bool,
    /// Exec mode: stderr lines go to the client too, both streams tagged as JSON.
    pub pass_stderr: bool,
    /// On SIGINT or SIGTERM, how long connections get to end, in ms.
    pub grace_ms: u64,
    /// Print the handshake derivation and one line per frame.
    pub trace: bool,
    /// `--connect`: binary messages received are printed as hex, one per line.
    pub hex: bool,
    /// `--connect`: speak the hixie-76 draft instead of RFC 6455.
    pub hixie76: bool,
    /// `--connect`: extra header fields for the upgrade request (`-H`).
    pub headers: Vec<(String, String)>,
    /// `--connect`: once stdin has ended and the server has read it all, how long
    /// the server must stay silent before the client closes, in ms.
    pub linger_ms: u64,
    /// Accept permessage-deflate offers (`--deflate`); with `--connect`, offer it.
    pub deflate: bool,
    /// What a compressing connection keeps between messages (`--deflatememory`).
    pub deflate_memory: DeflateMemory,
    /// Log verbosity: 0 quiet, 1 normal, 2 verbose.
    pub verbosity: u8,
    /// Broadcast mode: rooms span the instances using this Redis (`--redis URL`).
    pub redis: Option<stdws::redis::target::Target>,
}

/// What a compressing connection keeps between messages (`--deflatememory`): one of
/// [`ServerPreferences`](stdws::deflate::extension::ServerPreferences)'s settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeflateMemory {
    /// No context takeover either way: nothing.
    Stateless,
    /// Context takeover with 1 KiB windows: 1 KiB of history each way.
    Small,
    /// Context takeover with the windows the client allows: a compressor and 32 KiB.
    Full,
}

impl DeflateMemory {
    /// The mode's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DeflateMemory::Stateless => "stateless",
            DeflateMemory::Small => "small",
            DeflateMemory::Full => "full",
        }
    }

    /// What the server asks for in this mode.
    pub fn preferences(self) -> stdws::deflate::extension::ServerPreferences {
        use stdws::deflate::extension::ServerPreferences;
        match self {
            DeflateMemory::Stateless => ServerPreferences::stateless(),
            DeflateMemory::Small => ServerPreferences::small_windows(),
            DeflateMemory::Full => ServerPreferences::full(),
        }
    }
}

/// What the binary was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Serve connections.
    Serve,
    /// Connect to this `ws://` URL as a client: stdin to messages, messages to stdout.
    Connect(String),
    /// Explain a handshake (`rfc6455 KEY`, `hixie76 KEY1 KEY2 KEY3`) or how messages
    /// are compressed (`deflate TEXT...`).
    Explain(Vec<String>),
    /// Print the help text.
    Help,
    /// Print the version.
    Version,
}

/// What each connection gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Every message echoed back.
    Echo,
    /// Messages relayed to the other clients on the same path.
    Broadcast,
    /// A program per connection: messages to its stdin, its stdout lines back.
    Exec {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
    },
}

impl Default for Args {
    fn default() -> Args {
        Args {
            address: "127.0.0.1".to_string(),
            port: 9001,
            action: Action::Serve,
            mode: Mode::Echo,
            max_conns: 16384,
            ping_ms: 20_000,
            max_message_size: 64 << 20,
            max_memory: 256 << 20,
            origins: Vec::new(),
            same_origin: false,
            protocols: Vec::new(),
            static_dir: None,
            max_forks: 1024,
            close_ms: 100,
            pass_env: vec!["PATH".to_string(), "LD_LIBRARY_PATH".to_string()],
            binary: false,
            pass_stderr: false,
            grace_ms: 5000,
            trace: false,
            hex: false,
            hixie76: false,
            headers: Vec::new(),
            linger_ms: 500,
            deflate: false,
            deflate_memory: DeflateMemory::Small,
            verbosity: 1,
            redis: None,
        }
    }
}

/// A command line that cannot be followed; the binary prints it and exits 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The help text, grouped by mode, with every default.
///
/// A literal rather than a `format!` of [`Args::default`]: the binary carries the
/// text either way, and formatting thirteen values into it cost about 850 bytes of
/// code in the size profile. The test `help_states_every_default` keeps the
/// defaults written here equal to those [`Args::default`] sets.
pub const HELP: &str = concat!(
    "stdws ",
    env!("CARGO_PKG_VERSION"),
    ": a small WebSocket server (RFC 6455 and hixie-76)

usage:
  stdws [OPTIONS]                      echo every message (the default)
  stdws [OPTIONS] --broadcast          relay messages between clients on a path
  stdws [OPTIONS] [--] PROGRAM [ARGS]  run PROGRAM per connection: messages are
                                       lines on its stdin, its stdout lines are
                                       messages back
  stdws -c URL [OPTIONS]               connect to URL as a client: each stdin line
                                       is a text message, each message received
                                       is a line on stdout (see client below)
  stdws --explain rfc6455 KEY          show how Sec-WebSocket-Accept is derived
  stdws --explain hixie76 KEY1 KEY2 KEY3
                                       show how the hixie-76 answer is derived
                                       (KEY3: 8 characters or 16 hex digits;
                                       `--explain hixie76 KEY` checks one key)
  stdws --explain deflate TEXT...      show how permessage-deflate compresses
                                       each TEXT (one message each, in order):
                                       matches, literals, Huffman codes, the
                                       bytes on the wire, inflated back

listening:
  --address ADDR         address to listen on (default 127.0.0.1)
  --port N               port to listen on (default 9001)
  --maxconns N           most connections at once, 503 beyond (default 16384)
  --pingms MS            ping a peer silent this long, drop it after twice as
                         long; any byte counts; 0 for never (default 20000)
  --maxmessagesize BYTES largest message, close 1009 beyond (default 67108864)
  --maxmemory BYTES      memory budget for every connection's messages and queues
                         beyond 64 KiB each; a connection that cannot get its
                         share within 5 s is closed with 1013 (default 268435456)
  --gracems MS           on SIGINT or SIGTERM: close every connection (1001),
                         wait this long for them to end, exit 0; a second
                         signal exits at once with 128+signal (default 5000)

policy:
  --origin LIST          comma-separated allowed origins, others get 403 (default any)
  --sameorigin           Origin's host[:port] must equal Host (default off)
  --protocol LIST        subprotocols accepted, first offered wins (default none)
  --deflate              accept permessage-deflate (RFC 7692): messages of 48
                         bytes or more (16 with context takeover) go out
                         compressed; memory as --deflatememory says, drawn
                         from --maxmemory (default off: every offer declined)
  --deflatememory MODE   what a compressing connection keeps between messages
                         (implies --deflate): stateless (nothing: each message
                         compressed alone both ways), small (1 KiB windows with
                         context takeover: about 3 KiB), full (32 KiB windows:
                         about 130 KiB of RSS, 250 KiB of --maxmemory)
                         (default small)

plain HTTP:
  --staticdir DIR        serve files from DIR to GET/HEAD, index.html for a
                         directory, 403 for any way out of DIR (default: the
                         inspector page at /; it stays at /.stdws/inspector)

broadcast mode:
  --broadcast            each message goes to every other client on the same path;
                         a client more than 4096 messages or 16 MiB behind is
                         closed with 1008 (each has its own bounded queue)
  --redis URL            redis://[:PASSWORD@]HOST[:PORT][/DB]: rooms span every
                         instance using this Redis (pub/sub on channel
                         stdws:PATH), in one order; while it is unreachable,
                         rooms are local and it is retried (default none)

exec mode:
  --maxforks N           most programs running at once, 503 beyond (default 1024)
  --closems MS           time a program gets to exit after stdin closes; then
                         SIGTERM to its process group, SIGKILL 1 s later
                         (default 100)
  --passenv LIST         parent variables passed on (default PATH,LD_LIBRARY_PATH)
  --binary               stdout bytes go as binary messages, binary messages go
                         to stdin as they are (default: text, one line each)
  --passstderr           stderr lines go to the client too (and to the log);
                         every line is then sent as JSON, tagged
                         {\"stream\":\"stdout\",\"data\":\"...\"} or \"stderr\"
                         (not with --binary)

client (-c, --connect URL):
  --binary               stdin bytes go as binary messages, as they are read
  --hex                  print binary messages received as hex, one per line
                         (default: their bytes as they are)
  --protocol LIST        subprotocols to offer, in order of preference
  --origin ORIGIN        the Origin header to send
  -H, --header 'N: V'    an extra header field (repeatable)
  --hixie76              speak the 2010 draft (hixie-76) instead of RFC 6455
  --deflate              offer permessage-deflate (RFC 7692) as Chrome does; the
                         server's answer is checked strictly
  --lingerms MS          when stdin ends: once the server has read everything
                         (a ping answered), wait until it has sent nothing for
                         MS, then close (default 500)
  --trace                print the request, the nonce, the accept expected and
                         received, and one line per frame with its masking key
  Then close 1000 and print what still arrives; exit 0 once the server's close
  arrives (1 with a reason otherwise, 2 for a bad command line).

teaching and logs:
  --trace                print each handshake's derivation and one line per frame
                         (to stderr, like the log)
  -q, --quiet            log nothing but errors
  -v, --verbose          log more: programs started and ended, room joins
  --help                 print this help
  --version              print the version
"
);

/// A flag's numeric value, in the range of the field it sets.
///
/// It takes the value as `value()` returned it, error and all, so that the error
/// check and the string's drop are compiled once here rather than in every flag's
/// match arm (a size-profile saving).
fn number<T: TryFrom<u64>>(flag: &str, v: Result<String, UsageError>) -> Result<T, UsageError> {
    let v = v?;
    v.parse::<u64>()
        .ok()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| UsageError(format!("{flag}: '{v}' is not a valid number")))
}

/// A list that must name something: an empty `--origin ""` would silently allow
/// every origin. Takes `value()`'s result as [`number`] does.
fn non_empty_list(flag: &str, v: Result<String, UsageError>) -> Result<Vec<String>, UsageError> {
    let items = list(&v?);
    if items.is_empty() {
        return Err(UsageError(format!("{flag} needs at least one value")));
    }
    Ok(items)
}

/// An HTTP token (RFC 9110 §5.6.2), which is what a subprotocol name must be
/// (RFC 6455 §4.1).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses the arguments after the program name.
pub fn parse<I, S>(argv: I) -> Result<Args, UsageError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut args = Args::default();
    let mut it = argv.into_iter().map(Into::into);
    let mut broadcast = false;
    let mut program: Vec<String> = Vec::new();
    while let Some(arg) = it.next() {
        if arg == "--" {
            program.extend(it.by_ref());
            break;
        }
        if !arg.starts_with('-') {
            program.push(arg);
            program.extend(it.by_ref());
            break;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        // A separate value may not look like a flag: `--passenv --` is a mistake, not
        // an empty list (`--flag=--x` passes such a value on purpose).
        let mut value = || -> Result<String, UsageError> {
            match inline.clone().or_else(|| it.next()) {
                Some(v) if inline.is_none() && v.starts_with("--") => Err(UsageError(format!(
                    "{flag} needs a value, not '{v}' (use {flag}={v} if you mean it)"
                ))),
                Some(v) => Ok(v),
                None => Err(UsageError(format!("{flag} needs a value"))),
            }
        };
        match flag.as_str() {
            "--address" => args.address = value()?,
            "--port" => args.port = number(&flag, value())?,
            "--maxconns" => args.max_conns = number(&flag, value())?,
            "--pingms" => args.ping_ms = number(&flag, value())?,
            "--maxmessagesize" => args.max_message_size = number(&flag, value())?,
            "--maxmemory" => args.max_memory = number(&flag, value())?,
            "--origin" => args.origins = non_empty_list(&flag, value())?,
            "--protocol" => {
                args.protocols = non_empty_list(&flag, value())?;
                if let Some(bad) = args.protocols.iter().find(|p| !is_token(p)) {
                    return Err(UsageError(format!(
                        "--protocol: '{bad}' is not a valid subprotocol token"
                    )));
                }
            }
            "--staticdir" => args.static_dir = Some(PathBuf::from(value()?)),
            "--maxforks" => args.max_forks = number(&flag, value())?,
            "--closems" => args.close_ms = number(&flag, value())?,
            "--gracems" => args.grace_ms = number(&flag, value())?,
            "--passenv" => args.pass_env = list(&value()?),
            "--connect" | "-c" => args.action = Action::Connect(value()?),
            "--lingerms" => args.linger_ms = number(&flag, value())?,
            "--redis" => {
                let url = value()?;
                let target = stdws::redis::target::Target::parse(&url);
                args.redis = Some(target.map_err(|why| UsageError(format!("--redis: {why}")))?);
            }
            "--header" | "-H" => {
                let field = value()?;
                let Some((name, v)) = field.split_once(':') else {
                    return Err(UsageError(format!(
                        "{flag}: '{field}' is not 'Name: value'"
                    )));
                };
                args.headers
                    .push((name.trim().to_string(), v.trim().to_string()));
            }
            "--sameorigin" | "--broadcast" | "--binary" | "--passstderr" | "--trace" | "--hex"
            | "--hixie76" | "--deflate" | "--quiet" | "-q" | "--verbose" | "-v" | "--help"
            | "-h" | "--version" | "-V"
                if inline.is_some() =>
            {
                return Err(UsageError(format!("{flag} takes no value")));
            }
            "--sameorigin" => args.same_origin = true,
            "--broadcast" => broadcast = true,
            "--binary" => args.binary = true,
            "--passstderr" => args.pass_stderr = true,
            "--trace" => args.trace = true,
            "--hex" => args.hex = true,
            "--hixie76" => args.hixie76 = true,
            "--deflate" => args.deflate = true,
            "--deflatememory" => {
                let mode = value()?;
                args.deflate_memory = [
                    DeflateMemory::Stateless,
                    DeflateMemory::Small,
                    DeflateMemory::Full,
                ]
                .into_iter()
                .find(|m| m.name() == mode)
                .ok_or_else(|| {
                    UsageError(format!("{flag}: '{mode}' is not stateless, small or full"))
                })?;
                args.deflate = true;
            }
            "--quiet" | "-q" => args.verbosity = 0,
            "--verbose" | "-v" => args.verbosity = 2,
            "--help" | "-h" => args.action = Action::Help,
            "--version" | "-V" => args.action = Action::Version,
            "--explain" => {
                let mut words = vec![value()?];
                words.extend(it.by_ref());
                args.action = Action::Explain(words);
            }
            _ => return Err(UsageError(format!("unknown argument '{arg}' (try --help)"))),
        }
    }
    if args.same_origin && !args.origins.is_empty() {
        return Err(UsageError(
            "--sameorigin and --origin cannot be used together".into(),
        ));
    }
    if args.max_conns == 0 {
        return Err(UsageError("--maxconns must be at least 1".into()));
    }
    if args.max_forks == 0 {
        return Err(UsageError("--maxforks must be at least 1".into()));
    }
    if args.max_message_size == 0 {
        return Err(UsageError("--maxmessagesize must be at least 1".into()));
    }
    args.mode = match (broadcast, program.split_first()) {
        (true, Some(_)) => {
            return Err(UsageError(
                "--broadcast and a PROGRAM cannot be used together".into(),
            ))
        }
        (true, None) => Mode::Broadcast,
        (false, Some((p, rest))) => Mode::Exec {
            program: p.clone(),
            args: rest.to_vec(),
        },
        (false, None) => Mode::Echo,
    };
    if args.redis.is_some() && args.mode != Mode::Broadcast {
        return Err(UsageError("--redis applies to --broadcast only".into()));
    }
    if let Action::Connect(_) = args.action {
        return connect_checks(args);
    }
    if args.hex
        || args.hixie76
        || !args.headers.is_empty()
        || args.linger_ms != Args::default().linger_ms
    {
        return Err(UsageError(
            "--hex, --hixie76, -H and --lingerms apply to --connect only".into(),
        ));
    }
    if args.binary && !matches!(args.mode, Mode::Exec { .. }) {
        return Err(UsageError(
            "--binary applies to exec mode only (give a PROGRAM)".into(),
        ));
    }
    if args.pass_stderr && !matches!(args.mode, Mode::Exec { .. }) {
        return Err(UsageError(
            "--passstderr applies to exec mode only (give a PROGRAM)".into(),
        ));
    }
    if args.pass_stderr && args.binary {
        // Tagging needs lines of text; binary output has neither.
        return Err(UsageError(
            "--passstderr and --binary cannot be used together".into(),
        ));
    }
    Ok(args)
}

/// The flags `--connect` accepts: none of the server's modes, at most one origin,
/// no binary messages on hixie-76 (it has none).
fn connect_checks(args: Args) -> Result<Args, UsageError> {
    let refuse = |why: &str| Err(UsageError(format!("--connect: {why}")));
    if args.mode != Mode::Echo {
        return refuse("a client runs no PROGRAM and joins no broadcast");
    }
    if args.static_dir.is_some() || args.same_origin || args.pass_stderr {
        return refuse("--staticdir, --sameorigin and --passstderr are for servers");
    }
    if args.deflate_memory != Args::default().deflate_memory {
        return refuse("--deflatememory is for servers");
    }
    if args.origins.len() > 1 {
        return refuse("--origin takes one origin here");
    }
    if args.binary && args.hixie76 {
        return refuse("hixie-76 has no binary messages");
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_states_every_default() {
        let d = Args::default();
        for phrase in [
            format!("(default {})", d.address),
            format!("(default {})", d.port),
            format!("(default {})", d.max_conns),
            format!("(default {})", d.ping_ms),
            format!("(default {})", d.max_message_size),
            format!("(default {})", d.max_memory),
            format!("(default {})", d.grace_ms),
            format!("it stays at {}", super::super::inspect::PAGE_PATH),
            format!(
                "more than {} messages",
                super::super::broadcast::DEFAULT_QUEUE
            ),
            format!("(default {})", d.max_forks),
            format!("(default {})", d.close_ms),
            format!("(default {})", d.pass_env.join(",")),
            format!("(default {})", d.linger_ms),
            format!("(default {})", d.deflate_memory.name()),
        ] {
            assert!(HELP.contains(&phrase), "the help does not say {phrase:?}");
        }
        assert!(HELP.starts_with(&format!("stdws {}: ", env!("CARGO_PKG_VERSION"))));
    }

    #[test]
    fn deflate_memory_modes() {
        assert!(!parse(["--port", "1"]).unwrap().deflate);
        let plain = parse(["--deflate"]).unwrap();
        assert_eq!(plain.deflate_memory, Args::default().deflate_memory);
        for (name, mode) in [
            ("stateless", DeflateMemory::Stateless),
            ("small", DeflateMemory::Small),
            ("full", DeflateMemory::Full),
        ] {
            let a = parse(["--deflatememory", name]).unwrap();
            assert_eq!((a.deflate, a.deflate_memory), (true, mode));
        }
        assert!(parse(["--deflatememory", "tiny"]).is_err());
        assert!(parse(["--deflatememory"]).is_err());
    }

    #[test]
    fn both_value_forms() {
        assert_eq!(parse(["--port=8080"]).unwrap().port, 8080);
        let a = parse(["--port", "8081", "--address", "::1"]).unwrap();
        assert_eq!((a.port, a.address.as_str()), (8081, "::1"));
    }

    #[test]
    fn modes() {
        assert_eq!(parse(["--broadcast"]).unwrap().mode, Mode::Broadcast);
        let exec = parse(["--port", "1", "--", "sh", "-c", "cat"]).unwrap();
        assert_eq!(
            exec.mode,
            Mode::Exec {
                program: "sh".into(),
                args: vec!["-c".into(), "cat".into()]
            }
        );
        let bare = parse(["cat", "-n"]).unwrap();
        assert!(matches!(bare.mode, Mode::Exec { ref program, .. } if program == "cat"));
        assert!(parse(["--broadcast", "cat"]).is_err());
        let spanning = parse(["--broadcast", "--redis", "redis://:pw@10.0.0.2:6380/1"]).unwrap();
        let target = spanning.redis.expect("a Redis target");
        assert_eq!((target.port, target.db), (6380, 1));
    }

    #[test]
    fn lists_and_explain() {
        let a = parse([
            "--origin=http://a, http://b",
            "--protocol",
            "chat,superchat",
        ])
        .unwrap();
        assert_eq!(a.origins, ["http://a", "http://b"]);
        assert_eq!(a.protocols, ["chat", "superchat"]);
        let e = parse(["--explain", "rfc6455", "dGhlIHNhbXBsZSBub25jZQ=="]).unwrap();
        assert_eq!(
            e.action,
            Action::Explain(vec!["rfc6455".into(), "dGhlIHNhbXBsZSBub25jZQ==".into()])
        );
    }

    #[test]
    fn passstderr_and_gracems_flags() {
        let a = parse(["--passstderr", "--gracems=250", "--", "cat"]).unwrap();
        assert!(a.pass_stderr);
        assert_eq!(a.grace_ms, 250);
        assert_eq!(parse(["cat"]).unwrap().grace_ms, 5000);
    }

    #[test]
    fn connect_flags() {
        let a = parse([
            "-c",
            "ws://h:1/p",
            "--binary",
            "--hex",
            "-H",
            "X-A: b: c",
            "--origin",
            "http://o",
        ])
        .unwrap();
        assert_eq!(a.action, Action::Connect("ws://h:1/p".into()));
        assert!(a.binary && a.hex && !a.hixie76);
        assert_eq!(a.headers, [("X-A".to_string(), "b: c".to_string())]);
        assert_eq!(a.origins, ["http://o"]);
    }

    #[test]
    fn malformed_arguments_are_refused() {
        for bad in [
            &["--port", "x"][..],
            &["--port=70000"],
            &["--port"],
            &["--nope"],
            &["--maxconns", "0"],
            &["--maxforks", "0"],
            &["--binary=yes"],
            &["--origin", ""],
            &["--protocol", "a b"],
            &["--passenv", "--", "sh"],
            &["--sameorigin", "--origin", "http://a"],
            &["--binary"],
            &["--passstderr"],
            &["--passstderr", "--binary", "cat"],
            &["--gracems", "-1"],
            &["--hex"],
            &["-H", "X: y"],
            &["--lingerms", "5"],
            &["-c", "ws://h/", "--broadcast"],
            &["-c", "ws://h/", "cat"],
            &["-c", "ws://h/", "--binary", "--hixie76"],
            &["-c", "ws://h/", "-H", "no colon"],
            &["-c", "ws://h/", "--origin", "http://a,http://b"],
            &["--redis", "redis://h"],
            &["--broadcast", "--redis", "http://h"],
            &["--broadcast", "--redis", "redis://h:99999"],
        ] {
            assert!(parse(bad.iter().copied()).is_err(), "{bad:?}");
        }
    }
}
