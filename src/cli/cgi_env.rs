//! The environment an exec-mode program sees: CGI variables (RFC 3875 §4.1) named as
//! websocketd names them, one `HTTP_*` variable per request header, and the parent's
//! variables that `--passenv` lets through.

use std::ffi::{OsStr, OsString};
use std::process::Command;
use stdws::Request;

/// What websocketd puts in `GATEWAY_INTERFACE`, kept so its scripts run unchanged.
pub const GATEWAY_INTERFACE: &str = "websocketd-CGI/0.1";

/// The parent's variables named in `--passenv`, read once at start-up.
pub fn passed_from_parent(names: &[String]) -> Vec<(String, OsString)> {
    names
        .iter()
        .filter_map(|name| std::env::var_os(name).map(|v| (name.clone(), v)))
        .collect()
}

/// `Host` without its port: `example.com:8080` → `example.com`, `[::1]:80` → `[::1]`.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(end) = host.strip_prefix('[').and_then(|h| h.find(']')) {
        return &host[..end + 2];
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// A header name as a variable: `Sec-WebSocket-Key` → `HTTP_SEC_WEBSOCKET_KEY`.
/// Anything but letters and digits becomes `_`, so the name is always a valid one.
fn variable_name(header: &str) -> String {
    let mut name = String::with_capacity(5 + header.len());
    name.push_str("HTTP_");
    name.extend(header.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    name
}

/// Sets every CGI variable for `request`, served on `server_port`, on `command`. A
/// program serves every path, so `SCRIPT_NAME` is empty and `PATH_INFO` is the whole
/// path.
pub fn set_variables(command: &mut Command, request: &Request, server_port: u16) {
    let head = &request.head;
    let (remote_addr, remote_port) = request.peer.map_or((String::new(), String::new()), |p| {
        (p.ip().to_string(), p.port().to_string())
    });
    let variables = [
        ("REMOTE_ADDR", remote_addr.as_str()),
        ("REMOTE_PORT", &remote_port),
        ("SERVER_NAME", host_name(head.header("Host").unwrap_or(""))),
        ("SERVER_PORT", &server_port.to_string()),
        (
            "SERVER_PROTOCOL",
            &format!("HTTP/{}.{}", head.version.0, head.version.1),
        ),
        (
            "SERVER_SOFTWARE",
            concat!("stdws/", env!("CARGO_PKG_VERSION")),
        ),
        ("GATEWAY_INTERFACE", GATEWAY_INTERFACE),
        ("REQUEST_METHOD", &head.method),
        ("REQUEST_URI", &head.target),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", head.path()),
        ("QUERY_STRING", head.query()),
    ];
    for (name, value) in variables {
        set(command, name, OsStr::new(value));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for h in &head.headers {
        let name = variable_name(&h.name);
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                value.push_str(", ");
                value.push_str(&h.value);
            }
            None => headers.push((name, h.value.clone())),
        }
    }
    for (name, value) in &headers {
        set(command, name, OsStr::new(value));
    }
}

/// Sets one variable for the program. Every variable goes through here, the
/// parent's included, so `Command::env`, which is generic over its argument types,
/// is compiled into the binary once.
pub fn set(command: &mut Command, name: &str, value: &OsStr) {
    command.env(name, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("example.com:8080"), "example.com");
        assert_eq!(host_name("example.com"), "example.com");
        assert_eq!(host_name("[::1]:9001"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
    }

    #[test]
    fn header_names() {
        assert_eq!(variable_name("Sec-WebSocket-Key"), "HTTP_SEC_WEBSOCKET_KEY");
        assert_eq!(variable_name("x.odd!"), "HTTP_X_ODD_");
    }
}
