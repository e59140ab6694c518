//! Negotiating permessage-deflate (RFC 7692 §5, §7.1) in `Sec-WebSocket-Extensions`,
//! as pure functions over header values.
//!
//! The grammar (RFC 6455 §9.1), each header line a comma-separated list:
//!
//! ```text
//! extension       = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! The client offers one or more `permessage-deflate` entries; the server accepts at
//! most one, the first it can, and answers with one entry, or declines by sending no
//! header at all. An offer that breaks a rule (an unknown parameter, one given twice,
//! a value where none belongs, a window outside 8..=15 or written with a leading zero)
//! is simply declined (§7.1: "the server MUST decline" it), never a failed handshake.

/// The extension's registered name (§9.1).
pub const NAME: &str = "permessage-deflate";

/// What stdws as a client offers: Chrome's offer, saying the client can limit its
/// window if the server asks it to.
pub const CLIENT_OFFER: &str = "permessage-deflate; client_max_window_bits";

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

/// Why an offer is declined, or a server's answer refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationError {
    /// The header does not follow the grammar of RFC 6455 §9.1.
    Syntax,
    /// An extension other than permessage-deflate (in an answer: not offered).
    UnknownExtension,
    /// More than one extension in the server's answer.
    MoreThanOne,
    /// A parameter RFC 7692 does not define (§7.1).
    UnknownParameter,
    /// The same parameter twice (§7.1).
    DuplicateParameter,
    /// A value on `*_no_context_takeover`, which takes none (§7.1.1).
    UnexpectedValue,
    /// `server_max_window_bits` without a value, or `client_max_window_bits`
    /// without one in a server's answer (§7.1.2).
    MissingValue,
    /// A window size other than 8..=15 in decimal without a leading zero (§7.1.2).
    InvalidWindowBits,
    /// In an answer: `client_max_window_bits`, which the client did not offer.
    NotOffered,
}

/// What was agreed: what each side's compressor may do, and so what each side's
/// inflater must be ready for.
///
/// The server compresses with `server_max_window_bits` and resets after each message
/// when `server_no_context_takeover`; the client likewise with the `client_*` pair.
/// An inflater may keep history even when its peer resets (references into it never
/// come), which is the safe choice for `client_no_context_takeover` since some
/// clients (Safari 15.0 to 15.3) ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameters {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window: at most `2^bits` bytes back (8..=15).
    pub server_max_window_bits: u8,
    /// The client's LZ77 window (8..=15).
    pub client_max_window_bits: u8,
}

impl Default for Parameters {
    /// Context takeover both ways and 32 KiB windows: the extension's defaults.
    fn default() -> Parameters {
        Parameters {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// The parameters of one permessage-deflate offer, checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: offered without a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// What a server would like, within what the client allows. The default (context
/// takeover, 32 KiB windows) is what the extension gives when nothing is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerPreferences {
    /// The window of the server's compressor (8..=15); 8 is honoured (stdws's
    /// compressor can keep distances within 256), unlike zlib's.
    pub server_max_window_bits: u8,
    /// The window the server asks the client to use (9..=15; 8 is read as 9, since a
    /// zlib-based client cannot compress with an 8-bit window), asked only of a
    /// client that offered `client_max_window_bits`.
    pub client_max_window_bits: u8,
    /// Reset the server's compressor after each message even if not asked.
    pub server_no_context_takeover: bool,
    /// Ask the client to reset its compressor after each message.
    pub client_no_context_takeover: bool,
}

impl Default for ServerPreferences {
    fn default() -> ServerPreferences {
        ServerPreferences {
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
        }
    }
}

/// Parses the values of every `Sec-WebSocket-Extensions` header line into their
/// elements, each an extension or a syntax error (so one bad element costs only
/// itself). Empty elements (`a, , b`) are skipped, as lists in HTTP allow.
///
/// ```
/// use stdws::deflate::extension::parse;
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

/// Server side (§5.1, §7.1): the first acceptable permessage-deflate offer, as the
/// parameters agreed and the `Sec-WebSocket-Extensions` value that answers it, or
/// `None` to decline (then send no such header at all).
///
/// ```
/// use stdws::deflate::extension::{accept, ServerPreferences};
/// let prefs = ServerPreferences::default();
/// let offers = ["permessage-deflate; server_max_window_bits=08, permessage-deflate"];
/// let (params, answer) = accept(&offers, &prefs).unwrap();
/// assert_eq!(answer, "permessage-deflate"); // the first offer had a leading zero
/// assert_eq!(params.server_max_window_bits, 15);
/// assert_eq!(accept(&["x-webkit-deflate-frame"], &prefs), None);
/// ```
pub fn accept(values: &[&str], prefs: &ServerPreferences) -> Option<(Parameters, String)> {
    let offer = parse(values)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.name == NAME)
        .find_map(|e| check_offer(&e).ok())?;
    let mut params = Parameters::default();
    let mut answer = String::from(NAME);
    if offer.server_no_context_takeover || prefs.server_no_context_takeover {
        params.server_no_context_takeover = true;
        answer.push_str("; server_no_context_takeover");
    }
    if prefs.client_no_context_takeover {
        params.client_no_context_takeover = true;
        answer.push_str("; client_no_context_takeover");
    }
    let server_bits = prefs.server_max_window_bits.clamp(8, 15);
    let server_bits = offer
        .server_max_window_bits
        .map_or(server_bits, |n| n.min(server_bits));
    if server_bits < 15 || offer.server_max_window_bits.is_some() {
        params.server_max_window_bits = server_bits;
        answer.push_str(&format!("; server_max_window_bits={server_bits}"));
    }
    if let Some(offered) = offer.client_max_window_bits {
        // An offered value is the client's own limit (§7.1.2.2), 8 included.
        let wanted = prefs.client_max_window_bits.clamp(9, 15);
        let client_bits = offered.map_or(wanted, |n| n.min(wanted));
        params.client_max_window_bits = client_bits;
        if client_bits < 15 {
            answer.push_str(&format!("; client_max_window_bits={client_bits}"));
        }
    }
    Some((params, answer))
}

/// Client side (§5.1, §7.1): checks the server's answer to [`CLIENT_OFFER`] strictly.
/// `Ok(None)`: the server declined (no extension in the answer).
///
/// ```
/// use stdws::deflate::extension::{check_answer, NegotiationError};
/// let params = check_answer(&["permessage-deflate; client_max_window_bits=10"])?.unwrap();
/// assert_eq!(params.client_max_window_bits, 10);
/// assert_eq!(check_answer(&[]), Ok(None));
/// assert_eq!(
///     check_answer(&["permessage-deflate; client_max_window_bits"]),
///     Err(NegotiationError::MissingValue)
/// );
/// # Ok::<(), NegotiationError>(())
/// ```
pub fn check_answer(values: &[&str]) -> Result<Option<Parameters>, NegotiationError> {
    let list = parse(values);
    let extension = match list.as_slice() {
        [] => return Ok(None),
        [Err(SyntaxError), ..] => return Err(NegotiationError::Syntax),
        [Ok(extension)] => extension,
        [_, ..] => return Err(NegotiationError::MoreThanOne),
    };
    if extension.name != NAME {
        return Err(NegotiationError::UnknownExtension);
    }
    let answer = check_offer(extension)?;
    let client_bits = match answer.client_max_window_bits {
        None => 15,
        Some(None) => return Err(NegotiationError::MissingValue),
        Some(Some(bits)) => bits,
    };
    Ok(Some(Parameters {
        server_no_context_takeover: answer.server_no_context_takeover,
        client_no_context_takeover: answer.client_no_context_takeover,
        server_max_window_bits: answer.server_max_window_bits.unwrap_or(15),
        client_max_window_bits: client_bits,
    }))
}

/// Checks one permessage-deflate element's parameters (§7.1): each known, once,
/// with a value exactly where one belongs.
fn check_offer(extension: &Extension) -> Result<Offer, NegotiationError> {
    let mut offer = Offer::default();
    let mut seen = [false; 4];
    for (name, value) in &extension.params {
        let index = match name.as_str() {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            _ => return Err(NegotiationError::UnknownParameter),
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(NegotiationError::DuplicateParameter);
        }
        match (index, value) {
            (0 | 1, Some(_)) => return Err(NegotiationError::UnexpectedValue),
            (0, None) => offer.server_no_context_takeover = true,
            (1, None) => offer.client_no_context_takeover = true,
            (2, None) => return Err(NegotiationError::MissingValue),
            (2, Some(v)) => offer.server_max_window_bits = Some(window_bits(v)?),
            (_, None) => offer.client_max_window_bits = Some(None),
            (_, Some(v)) => offer.client_max_window_bits = Some(Some(window_bits(v)?)),
        }
    }
    Ok(offer)
}

/// A window size: `1*DIGIT` in 8..=15, without a leading zero (§7.1.2.1).
fn window_bits(value: &str) -> Result<u8, NegotiationError> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Ok(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Ok(10 + d - b'0'),
        _ => Err(NegotiationError::InvalidWindowBits),
    }
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
