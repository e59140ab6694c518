//! `ws://` URLs (RFC 6455 §3): host, port and the resource a client asks for.

use super::ClientError;

/// The parts of a `ws://host[:port]/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The host as written (IPv6 in brackets).
    pub host: String,
    /// The port (80 if none was given).
    pub port: u16,
    /// The resource: path and query, at least `/`.
    pub resource: String,
}

impl Url {
    /// Parses a `ws://` URL (RFC 6455 §3). `wss://` is refused: terminate TLS in front
    /// (see README). A fragment (`#...`), spaces and control characters are refused.
    ///
    /// ```
    /// let url = stdws::client::Url::parse("ws://[::1]:9001/chat?x=1").unwrap();
    /// assert_eq!((url.host.as_str(), url.port, url.resource.as_str()), ("[::1]", 9001, "/chat?x=1"));
    /// assert_eq!(stdws::client::Url::parse("ws://example.com").unwrap().resource, "/");
    /// assert!(stdws::client::Url::parse("wss://example.com/").is_err());
    /// assert!(stdws::client::Url::parse("ws://example.com/#top").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Url, ClientError> {
        let bad = |why: &str| ClientError::Url(format!("{url}: {why}"));
        if url.starts_with("wss://") {
            return Err(bad(
                "wss:// is not supported: terminate TLS in front (see README)",
            ));
        }
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| bad("only ws:// URLs are supported"))?;
        if rest.bytes().any(|b| b <= b' ' || b == 0x7F) {
            return Err(bad("spaces and control characters must be percent-encoded"));
        }
        // §3: "Fragment identifiers are meaningless in the context of WebSocket URIs".
        if rest.contains('#') {
            return Err(bad("a WebSocket URL has no fragment (#)"));
        }
        let (authority, resource) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let resource = if resource.starts_with('?') {
            format!("/{resource}")
        } else {
            resource
        };
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                let port = authority[i + 1..].parse().map_err(|_| bad("bad port"))?;
                (&authority[..i], port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Url {
            host: host.to_string(),
            port,
            resource,
        })
    }

    /// The Host header value: host, plus the port unless it is 80.
    pub fn host_header(&self) -> String {
        if self.port == 80 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(Url::parse("wss://x/").is_err());
        assert!(Url::parse("ws://:80/").is_err());
        assert!(Url::parse("ws://h:99999/").is_err());
        assert_eq!(Url::parse("ws://h?q").unwrap().resource, "/?q");
        assert_eq!(Url::parse("ws://h:8080/").unwrap().host_header(), "h:8080");
    }
}
