//! The command line, parsed by hand: `--flag value` and `--flag=value` both work.

use std::fmt;

/// Everything the command line chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Address to listen on.
    pub address: String,
    /// Port to listen on.
    pub port: u16,
    /// What to do.
    pub action: Action,
}

/// What the binary was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Serve (echo).
    Serve,
    /// Print the help text.
    Help,
    /// Print the version.
    Version,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            address: "127.0.0.1".to_string(),
            port: 9001,
            action: Action::Serve,
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

/// The help text, with every default.
pub fn help() -> String {
    let d = Args::default();
    format!(
        "stdws {version}: a small WebSocket server (RFC 6455 and hixie-76)

usage: stdws [OPTIONS]

Echoes every text and binary message on every path. GET / without an upgrade
returns a page that opens a WebSocket back to the server.

options:
  --address ADDR   address to listen on (default {address})
  --port N         port to listen on (default {port})
  --help           print this help
  --version        print the version
",
        version = env!("CARGO_PKG_VERSION"),
        address = d.address,
        port = d.port,
    )
}

/// Parses the arguments after the program name.
///
/// ```ignore
/// let args = parse(["--port=8080"]).unwrap();
/// ```
pub fn parse<I, S>(argv: I) -> Result<Args, UsageError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut args = Args::default();
    let mut it = argv.into_iter().map(Into::into);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, UsageError> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| UsageError(format!("{name} needs a value")))
        };
        match flag.as_str() {
            "--address" => args.address = value("--address")?,
            "--port" => {
                let v = value("--port")?;
                args.port = v
                    .parse()
                    .map_err(|_| UsageError(format!("--port: '{v}' is not a port number")))?;
            }
            "--help" | "-h" => args.action = Action::Help,
            "--version" | "-V" => args.action = Action::Version,
            _ => return Err(UsageError(format!("unknown argument '{arg}' (try --help)"))),
        }
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_value_forms() {
        assert_eq!(parse(["--port=8080"]).unwrap().port, 8080);
        let a = parse(["--port", "8081", "--address", "::1"]).unwrap();
        assert_eq!((a.port, a.address.as_str()), (8081, "::1"));
    }

    #[test]
    fn malformed_arguments_are_refused() {
        assert!(parse(["--port", "x"]).is_err());
        assert!(parse(["--port=70000"]).is_err());
        assert!(parse(["--port"]).is_err());
        assert!(parse(["--nope"]).is_err());
    }
}
