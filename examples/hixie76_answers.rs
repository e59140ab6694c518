//! Prints stdws's hixie-76 challenge answers, one per input line, so another
//! implementation can be compared with it (scripts/interop-test.sh does so with npm
//! websocket-driver on thousands of random keys).
//!
//! Each input line is `KEY1<TAB>KEY2<TAB>KEY3` with key3 as 16 hex digits; each output
//! line is the 16-byte answer as 32 hex digits, or `refused: REASON` when either key
//! is refused by the draft's rules (§5.2: no digits, no spaces, not a whole multiple,
//! a key number above 4,294,967,295).
//!
//!     printf '4 @1  46546xW%%0l 1 5\t12998 5 Y3 1  .P00\t5e6e3a64735b3455\n' \
//!       | cargo run --example hixie76_answers
//!     # 386a4b5327793a472a436f2c5778612d  (that is "8jKS'y:G*Co,Wxa-")

use std::io::{BufRead, Write};
use stdws::handshake::hixie76::{challenge_response, key_number};

fn main() -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        let fields: Vec<&str> = line.split('\t').collect();
        let [key1, key2, key3] = fields[..] else {
            writeln!(out, "refused: expected three tab-separated fields")?;
            continue;
        };
        let Some(key3) = parse_hex8(key3) else {
            writeln!(out, "refused: key3 is not 16 hex digits")?;
            continue;
        };
        match (key_number(key1), key_number(key2)) {
            (Ok(n1), Ok(n2)) => {
                let answer = challenge_response(n1, n2, &key3);
                let hex: String = answer.iter().map(|b| format!("{b:02x}")).collect();
                writeln!(out, "{hex}")?;
            }
            (Err(e), _) | (_, Err(e)) => writeln!(out, "refused: {e}")?,
        }
    }
    out.flush()
}

fn parse_hex8(hex: &str) -> Option<[u8; 8]> {
    if hex.len() != 16 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 8];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
