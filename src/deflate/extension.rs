//! Negotiating permessage-deflate (RFC 7692 §5, §7.1) in `Sec-WebSocket-Extensions`,
//! as pure functions over header values.
//!
//! The client offers one or more `permessage-deflate` entries; the server accepts at
//! most one, the first it can, and answers with one entry, or declines by sending no
//! header at all. An offer that breaks a rule (an unknown parameter, one given twice,
//! a value where none belongs, a window outside 8..=15 or written with a leading zero)
//! is simply declined (§7.1 says the server must decline it), never a failed
//! handshake. The header's grammar is [`super::extension_list`]'s.

pub use super::extension_list::{parse, Extension, SyntaxError};

/// The extension's registered name (§9.1).
pub const NAME: &str = "permessage-deflate";

/// What stdws as a client offers: Chrome's offer, saying the client can limit its
/// window if the server asks it to.
pub const CLIENT_OFFER: &str = "permessage-deflate; client_max_window_bits";

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
    /// Ask `client_no_context_takeover` of a client whose window cannot be limited
    /// (it did not offer `client_max_window_bits`, as Firefox and Safari do not): its
    /// history would otherwise cost a 32 KiB window on the server.
    pub client_no_context_takeover_if_unlimited: bool,
}

impl Default for ServerPreferences {
    /// [`ServerPreferences::full`].
    fn default() -> ServerPreferences {
        ServerPreferences::full()
    }
}

impl ServerPreferences {
    /// Context takeover both ways with the windows the client allows (32 KiB unless it
    /// asks for less): the best compression, at the most memory per connection (about
    /// 250 KiB once both directions have carried a compressed message; see
    /// docs/COMPRESSION.md).
    pub fn full() -> ServerPreferences {
        ServerPreferences {
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            client_no_context_takeover_if_unlimited: false,
        }
    }

    /// Context takeover with 1 KiB windows each way (`server_max_window_bits=10`, and
    /// `client_max_window_bits=10` of a client that offered that parameter,
    /// `client_no_context_takeover` of one that did not): a connection keeps 1 KiB of
    /// history each way between messages, and borrows the rest for each message.
    pub fn small_windows() -> ServerPreferences {
        ServerPreferences {
            server_max_window_bits: SMALL_WINDOW_BITS,
            client_max_window_bits: SMALL_WINDOW_BITS,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            client_no_context_takeover_if_unlimited: true,
        }
    }

    /// No context takeover either way (`server_no_context_takeover;
    /// client_no_context_takeover`): each message is compressed alone, and a
    /// connection keeps nothing between messages.
    pub fn stateless() -> ServerPreferences {
        ServerPreferences {
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            client_no_context_takeover_if_unlimited: true,
        }
    }
}

/// The window of [`ServerPreferences::small_windows`]: 10 bits, 1 KiB.
pub const SMALL_WINDOW_BITS: u8 = 10;

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
    let unlimited = offer.client_max_window_bits.is_none();
    if prefs.client_no_context_takeover
        || (unlimited && prefs.client_no_context_takeover_if_unlimited)
    {
        params.client_no_context_takeover = true;
        answer.push_str("; client_no_context_takeover");
    }
    let server_bits = prefs.server_max_window_bits.clamp(8, 15);
    let server_bits = offer
        .server_max_window_bits
        .map_or(server_bits, |n| n.min(server_bits));
    if server_bits < 15 || offer.server_max_window_bits.is_some() {
        params.server_max_window_bits = server_bits;
        push_param(&mut answer, "; server_max_window_bits=", server_bits);
    }
    if let Some(offered) = offer.client_max_window_bits {
        // An offered value is the client's own limit (§7.1.2.2), 8 included.
        let wanted = prefs.client_max_window_bits.clamp(9, 15);
        let client_bits = offered.map_or(wanted, |n| n.min(wanted));
        params.client_max_window_bits = client_bits;
        if client_bits < 15 {
            push_param(&mut answer, "; client_max_window_bits=", client_bits);
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

/// Appends `param` and a window size (8..=15) to an answer. Two digits pushed by
/// hand rather than `format!`, which costs more code in the size-profile binary.
fn push_param(answer: &mut String, param: &str, bits: u8) {
    answer.push_str(param);
    if bits >= 10 {
        answer.push('1');
    }
    answer.push(char::from(b'0' + bits % 10));
}

/// A window size: `1*DIGIT` in 8..=15, without a leading zero (§7.1.2.1).
fn window_bits(value: &str) -> Result<u8, NegotiationError> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Ok(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Ok(10 + d - b'0'),
        _ => Err(NegotiationError::InvalidWindowBits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(offers: &[&str]) -> Option<String> {
        accept(offers, &ServerPreferences::default()).map(|(_, answer)| answer)
    }

    #[test]
    fn what_browsers_offer_is_accepted() {
        // Chrome, then Firefox and Safari (bare), then Autobahn 13.*.
        let chrome = accept(&[CLIENT_OFFER], &ServerPreferences::default()).unwrap();
        assert_eq!(chrome, (Parameters::default(), NAME.to_string()));
        assert_eq!(answer(&["permessage-deflate"]).unwrap(), NAME);
        let autobahn = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
        assert_eq!(answer(&[autobahn]).unwrap(), NAME);
        let (params, answer) = accept(
            &["permessage-deflate; server_max_window_bits=9"],
            &ServerPreferences::default(),
        )
        .unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=9");
        assert_eq!(params.server_max_window_bits, 9);
    }

    #[test]
    fn a_requested_window_of_8_is_answered_with_8() {
        let (params, answer) = accept(
            &["permessage-deflate; server_max_window_bits=8; client_max_window_bits=8"],
            &ServerPreferences::default(),
        )
        .unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8"
        );
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (8, 8)
        );
    }

    #[test]
    fn a_client_is_never_asked_for_a_window_of_8() {
        let prefs = ServerPreferences {
            client_max_window_bits: 8,
            server_max_window_bits: 8,
            ..ServerPreferences::default()
        };
        let (params, answer) = accept(&[CLIENT_OFFER], &prefs).unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=9"
        );
        assert_eq!(params.client_max_window_bits, 9);
        // Not offered: not asked, and the client may use 32 KiB.
        let (params, answer) = accept(&["permessage-deflate"], &prefs).unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=8");
        assert_eq!(params.client_max_window_bits, 15);
    }

    #[test]
    fn no_context_takeover_is_confirmed_or_asked() {
        let (params, answer) = accept(
            &["permessage-deflate; server_no_context_takeover"],
            &ServerPreferences::default(),
        )
        .unwrap();
        assert_eq!(answer, "permessage-deflate; server_no_context_takeover");
        assert!(params.server_no_context_takeover && !params.client_no_context_takeover);
        let prefs = ServerPreferences {
            client_no_context_takeover: true,
            ..ServerPreferences::default()
        };
        let (params, answer) = accept(&["permessage-deflate"], &prefs).unwrap();
        assert_eq!(answer, "permessage-deflate; client_no_context_takeover");
        assert!(params.client_no_context_takeover);
    }

    /// The answer of `prefs` to `offer`, and the parameters agreed.
    fn agreed(offer: &str, prefs: ServerPreferences) -> (String, Parameters) {
        let (params, answer) = accept(&[offer], &prefs).unwrap();
        (answer, params)
    }

    #[test]
    fn small_windows_limit_both_directions_or_ask_for_resets() {
        let small = ServerPreferences::small_windows;
        let (answer, params) = agreed(CLIENT_OFFER, small());
        assert_eq!(
            answer,
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"
        );
        assert_eq!(
            params,
            Parameters {
                server_max_window_bits: 10,
                client_max_window_bits: 10,
                ..Parameters::default()
            }
        );
        // Firefox and Safari: their window cannot be limited, so they are asked to reset.
        let (answer, params) = agreed("permessage-deflate", small());
        assert_eq!(
            answer,
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"
        );
        assert!(params.client_no_context_takeover && !params.server_no_context_takeover);
        assert_eq!(params.client_max_window_bits, 15);
        // A client's own smaller limits stand.
        let offer = "permessage-deflate; server_max_window_bits=9; client_max_window_bits=8";
        let (answer, _) = agreed(offer, small());
        assert_eq!(
            answer,
            "permessage-deflate; server_max_window_bits=9; client_max_window_bits=8"
        );
    }

    #[test]
    fn stateless_resets_both_directions() {
        let stateless = ServerPreferences::stateless;
        for offer in [CLIENT_OFFER, "permessage-deflate"] {
            let (answer, params) = agreed(offer, stateless());
            assert_eq!(
                answer,
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                "{offer}"
            );
            assert!(params.server_no_context_takeover && params.client_no_context_takeover);
        }
        let (answer, _) = agreed("permessage-deflate; server_max_window_bits=12", stateless());
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12"
        );
        assert_eq!(ServerPreferences::default(), ServerPreferences::full());
    }

    #[test]
    fn a_bad_offer_is_skipped_for_the_next() {
        for bad in [
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=\"\"",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; client_max_window_bits=08",
            "permessage-deflate; client_max_window_bits=\"1 0\"",
            "permessage-deflate; client_max_window_bits=; x",
            "permessage-deflate; =10",
            "permessage-deflate x",
        ] {
            assert_eq!(answer(&[bad]), None, "{bad}");
            let with_next = format!("{bad}, permessage-deflate; client_max_window_bits=\"10\"");
            let (params, _) = accept(&[&with_next], &ServerPreferences::default()).unwrap();
            assert_eq!(params.client_max_window_bits, 10, "{bad}");
        }
        assert_eq!(answer(&["permessage-deflate; a=\"unterminated"]), None);
        assert_eq!(answer(&["x-webkit-deflate-frame", ""]), None);
        assert_eq!(answer(&["foo, ,permessage-deflate"]).unwrap(), NAME);
        // Offers on separate header lines count in order.
        let lines = [
            "permessage-deflate; bar",
            "permessage-deflate;server_max_window_bits=12",
        ];
        assert_eq!(
            accept(&lines, &ServerPreferences::default())
                .unwrap()
                .0
                .server_max_window_bits,
            12
        );
    }

    #[test]
    fn a_server_answer_is_checked_strictly() {
        use NegotiationError::*;
        let full = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                    server_max_window_bits=10; client_max_window_bits=\"9\"";
        let params = check_answer(&[full]).unwrap().unwrap();
        assert_eq!(
            params,
            Parameters {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: 10,
                client_max_window_bits: 9,
            }
        );
        assert_eq!(
            check_answer(&["permessage-deflate"]),
            Ok(Some(Parameters::default()))
        );
        for (bad, why) in [
            ("permessage-deflate, permessage-deflate", MoreThanOne),
            ("x-webkit-deflate-frame", UnknownExtension),
            ("permessage-deflate; max_window_bits=10", UnknownParameter),
            (
                "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
                DuplicateParameter,
            ),
            (
                "permessage-deflate; server_no_context_takeover=yes",
                UnexpectedValue,
            ),
            ("permessage-deflate; client_max_window_bits", MissingValue),
            (
                "permessage-deflate; server_max_window_bits=20",
                InvalidWindowBits,
            ),
            ("permessage-deflate;", Syntax),
        ] {
            assert_eq!(check_answer(&[bad]), Err(why), "{bad}");
        }
    }
}
