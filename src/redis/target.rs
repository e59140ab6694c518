//! Where a Redis server is and how to log in: the `redis://` URL form
//! (`redis://[[user]:password@]host[:port][/db]`, as registered with IANA and read by
//! redis-cli `-u`).

use std::fmt;

/// The port Redis listens on by default.
pub const DEFAULT_PORT: u16 = 6379;

/// A parsed `redis://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address (an IPv6 address without its brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// ACL user name (Redis 6); `None` logs in as the default user.
    pub user: Option<String>,
    /// Password for `AUTH`; `None` sends no `AUTH`.
    pub password: Option<String>,
    /// Database number for `SELECT` (pub/sub ignores it, but a server may refuse it).
    pub db: u32,
}

/// Shows where, never the password.
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// `host:port`, as a log line names the server.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl Target {
    /// Parses `redis://[[user]:password@]host[:port][/db]`; the error says what is
    /// wrong.
    pub fn parse(url: &str) -> Result<Target, String> {
        let bad = |why: &str| Err(format!("'{url}' is not a redis:// URL: {why}"));
        let Some(rest) = url.strip_prefix("redis://") else {
            return bad("it must start with redis://");
        };
        let (authority, db) = match rest.split_once('/') {
            Some((a, "")) => (a, 0),
            Some((a, db)) => match db.parse() {
                Ok(n) => (a, n),
                Err(_) => return bad("the database must be a number"),
            },
            None => (rest, 0),
        };
        let (login, address) = match authority.rsplit_once('@') {
            Some((login, address)) => (Some(login), address),
            None => (None, authority),
        };
        let (user, password) = match login.map(|l| l.split_once(':')) {
            None => (None, None),
            Some(None) => return bad("the login must be user:password or :password"),
            Some(Some((user, password))) => (
                (!user.is_empty()).then(|| user.to_string()),
                Some(password.to_string()),
            ),
        };
        let (host, port) = if let Some(v6) = address.strip_prefix('[') {
            match v6.split_once(']') {
                Some((host, "")) => (host, None),
                Some((host, port)) => match port.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return bad("junk after the IPv6 address"),
                },
                None => return bad("an unclosed [ in the host"),
            }
        } else {
            match address.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (address, None),
            }
        };
        if host.is_empty() {
            return bad("no host");
        }
        let port = match port.map(str::parse) {
            None => DEFAULT_PORT,
            Some(Ok(p)) if p > 0 => p,
            Some(_) => return bad("the port must be 1 to 65535"),
        };
        Ok(Target {
            host: host.to_string(),
            port,
            user,
            password,
            db,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part() {
        let t = Target::parse("redis://:s3cret@10.0.0.5:6380/2").unwrap();
        assert_eq!(
            (
                t.host.as_str(),
                t.port,
                t.user.as_deref(),
                t.password.as_deref(),
                t.db
            ),
            ("10.0.0.5", 6380, None, Some("s3cret"), 2)
        );
        let t = Target::parse("redis://app:p@ss@[::1]:7000").unwrap();
        assert_eq!(
            (t.host.as_str(), t.user.as_deref(), t.password.as_deref()),
            ("::1", Some("app"), Some("p@ss"))
        );
        assert_eq!(t.to_string(), "[::1]:7000");
        let t = Target::parse("redis://localhost/").unwrap();
        assert_eq!(
            (t.port, t.password.as_deref(), t.db),
            (DEFAULT_PORT, None, 0)
        );
        assert_eq!(format!("{t:?}"), "localhost:6379");
    }

    #[test]
    fn mistakes_are_named() {
        for bad in [
            "http://h",
            "redis://",
            "redis://h:0",
            "redis://h:x",
            "redis://h/x",
            "redis://nopassword@h",
            "redis://[::1",
            "redis://[::1]x",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
