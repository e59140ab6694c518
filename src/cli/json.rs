//! JSON strings for the messages the binary writes: `--passstderr`'s format, each line
//! of the program's output as an object naming its stream,
//! `{"stream":"stdout","data":"..."}` or `"stderr"`, so a client can tell the two
//! apart in any protocol (hixie-76 has text frames only; websocketd's
//! `--passstderr` sends the same shape), and the inspector's reports.

/// `line` as the JSON object `{"stream":STREAM,"data":LINE}`.
pub fn tagged(stream: &str, line: &str) -> String {
    let mut out = String::with_capacity(line.len() + stream.len() + 24);
    out.push_str("{\"stream\":");
    push_string(&mut out, stream);
    out.push_str(",\"data\":");
    push_string(&mut out, line);
    out.push('}');
    out
}

/// Appends `s` as a JSON string (RFC 8259 §7): the quotation mark, the backslash and
/// the control characters U+0000 to U+001F must be escaped; everything else, any
/// Unicode character included, may stand as it is.
pub fn push_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::tagged;

    #[test]
    fn escapes_what_json_requires() {
        assert_eq!(
            tagged("stderr", "a \"q\" \\ b\tc\u{1}\u{1f} ü"),
            "{\"stream\":\"stderr\",\"data\":\"a \\\"q\\\" \\\\ b\\tc\\u0001\\u001f ü\"}"
        );
        assert_eq!(
            tagged("stdout", ""),
            "{\"stream\":\"stdout\",\"data\":\"\"}"
        );
    }
}
