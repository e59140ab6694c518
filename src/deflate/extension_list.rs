//! The `Sec-WebSocket-Extensions` list (RFC 6455 §9.1), parsed: the grammar only,
//! whatever the extensions mean.
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list  = 1#extension
//! extension       = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! Each header line is a comma-separated list, and several lines make one list.

/// One element of an extension list: its name and its parameters, with quoted
/// values unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension token.
    pub name: String,
    /// Each parameter's name and value, in order.
    pub params: Vec<(String, Option<String>)>,
}

/// An element of a `Sec-WebSocket-Extensions` list that does not follow the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxError;

/// Parses the values of every `Sec-WebSocket-Extensions` header line into their
/// elements, each an extension or a syntax error (so one bad element costs only
/// itself). Empty elements (`a, , b`) are skipped, as lists in HTTP allow.
///
/// ```
/// use stdws::deflate::extension_list::parse;
/// let list = parse(&["permessage-deflate; client_max_window_bits=\"10\", x-foo"]);
/// let first = list[0].as_ref().unwrap();
/// assert_eq!(first.name, "permessage-deflate");
/// assert_eq!(first.params, [("client_max_window_bits".to_string(), Some("10".to_string()))]);
/// assert_eq!(list[1].as_ref().unwrap().name, "x-foo");
/// ```
pub fn parse(values: &[&str]) -> Vec<Result<Extension, SyntaxError>> {
    let mut list = Vec::new();
    for value in values {
        let mut rest = value.as_bytes();
        loop {
            rest = skip_space(rest);
            match rest.first() {
                None => break,
                Some(b',') => rest = &rest[1..],
                Some(_) => {
                    let (element, after) = match parse_element(rest) {
                        Ok((element, after)) => (Ok(element), after),
                        Err(SyntaxError) => (Err(SyntaxError), skip_element(rest)),
                    };
                    list.push(element);
                    rest = after;
                }
            }
        }
    }
    list
}

/// `tchar` of RFC 7230 §3.2.6.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn skip_space(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    &s[n..]
}

/// A token at the front of `s`, and what follows it.
fn token(s: &[u8]) -> Result<(String, &[u8]), SyntaxError> {
    let n = s.iter().take_while(|&&b| is_tchar(b)).count();
    if n == 0 {
        return Err(SyntaxError);
    }
    // Token characters are ASCII.
    Ok((String::from_utf8_lossy(&s[..n]).into_owned(), &s[n..]))
}

/// A quoted-string (RFC 7230 §3.2.6) at the front of `s`, unquoted, and what follows.
fn quoted_string(s: &[u8]) -> Result<(String, &[u8]), SyntaxError> {
    let mut value = Vec::new();
    let mut i = 1;
    loop {
        match s.get(i) {
            Some(b'"') => break,
            Some(b'\\') => {
                value.push(*s.get(i + 1).ok_or(SyntaxError)?);
                i += 2;
            }
            Some(&b) if b != 0x7F && (b >= 0x20 || b == b'\t') => {
                value.push(b);
                i += 1;
            }
            _ => return Err(SyntaxError),
        }
    }
    let value = String::from_utf8(value).map_err(|_| SyntaxError)?;
    Ok((value, &s[i + 1..]))
}

/// One list element: a token, its parameters, then the end or a comma.
fn parse_element(s: &[u8]) -> Result<(Extension, &[u8]), SyntaxError> {
    let (name, mut rest) = token(s)?;
    let mut params = Vec::new();
    loop {
        rest = skip_space(rest);
        match rest.first() {
            None | Some(b',') => return Ok((Extension { name, params }, rest)),
            Some(b';') => {}
            Some(_) => return Err(SyntaxError),
        }
        let (param, after) = token(skip_space(&rest[1..]))?;
        rest = skip_space(after);
        let value = if rest.first() == Some(&b'=') {
            rest = skip_space(&rest[1..]);
            let (value, after) = if rest.first() == Some(&b'"') {
                quoted_string(rest)?
            } else {
                token(rest)?
            };
            rest = after;
            Some(value)
        } else {
            None
        };
        params.push((param, value));
    }
}

/// What follows a malformed element: the input after its comma (outside quotes).
fn skip_element(s: &[u8]) -> &[u8] {
    let mut quoted = false;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b',' if !quoted => return &s[i + 1..],
            _ => {}
        }
        i += 1;
    }
    &[]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_unquoted() {
        let list = parse(&[r#"x; a="b\"c, d"; e=f, permessage-deflate ; g"#]);
        let x = list[0].as_ref().unwrap();
        assert_eq!(x.params[0], ("a".to_string(), Some("b\"c, d".to_string())));
        assert_eq!(x.params[1], ("e".to_string(), Some("f".to_string())));
        assert_eq!(list[1].as_ref().unwrap().params, [("g".to_string(), None)]);
        let list = parse(&["a;b=\"c\" d, e"]);
        assert_eq!(list[0], Err(SyntaxError));
        assert_eq!(list[1].as_ref().unwrap().name, "e");
    }
}
