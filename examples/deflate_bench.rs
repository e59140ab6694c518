//! The speed of stdws's DEFLATE beside zlib's, on the same messages on the same
//! machine, for `scripts/bench.sh`.
//!
//! ```text
//! cargo run --release --example deflate_bench [-- --no-zlib] [--mib N]
//! ```
//!
//! Autobahn-like messages (chat JSON, English-like text, random binary; 256 B, 4 KiB
//! and 64 KiB each) go through one permessage-deflate connection's worth of state:
//! a [`Compressor`] at window 15 with context takeover, each message sync-flushed
//! and its `00 00 ff ff` removed (RFC 7692 §7.2.1), then an [`Inflater`] that must
//! give every message back. The messages and stdws's payloads are written to a
//! scratch directory, where `scripts/deflate_bench.py` does the same with Python's
//! `zlib` (level 1 and the default level 6, raw DEFLATE, `wbits=-15`, memLevel 8)
//! and also inflates stdws's own payloads, so the two inflaters meet the same
//! stream. Each figure is the best of three runs, in MB/s of uncompressed bytes per
//! second of the thread's CPU time (so that other work on a shared machine does not
//! count; wall time where Linux's schedstat is missing); ratio is compressed / raw.
//!
//! The goals of issue 11: inflate at least 0.5x zlib's speed, and the compressor at
//! least 0.5x zlib level 1's speed at a size within 1.15x of zlib level 1's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;
use stdws::deflate::{Compressor, Inflater};

/// Runs per figure; the best is kept.
const RUNS: usize = 3;

/// A small deterministic generator (xorshift64*), so every run measures the same
/// bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: [&str; 48] = [
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
    "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "message", "socket", "server", "client", "window", "history", "protocol", "frame",
];

/// Chat-like JSON records, as many as fill `len` bytes.
fn json(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 200);
    out.push(b'[');
    while out.len() < len {
        let words: Vec<&str> = (0..3 + rng.below(12))
            .map(|_| WORDS[rng.below(WORDS.len())])
            .collect();
        out.extend_from_slice(
            format!(
                r#"{{"id":{},"user":"user{}","room":"lobby","text":"{}","ts":{}}},"#,
                rng.below(1_000_000),
                rng.below(500),
                words.join(" "),
                1_700_000_000 + rng.below(10_000_000)
            )
            .as_bytes(),
        );
    }
    out.truncate(len);
    out
}

/// English-like text: common words, sentences, paragraphs.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 20);
    while out.len() < len {
        out.extend_from_slice(WORDS[rng.below(WORDS.len())].as_bytes());
        out.extend_from_slice(match rng.below(14) {
            0 => b". ",
            1 => b", ",
            2 => b".\n\n",
            _ => b" ",
        });
    }
    out.truncate(len);
    out
}

/// Random bytes: what a compressed image or archive looks like.
fn binary(rng: &mut Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Makes one message of a kind, of a given length.
type Generator = fn(&mut Rng, usize) -> Vec<u8>;

/// One cell of the table: a kind of data at one message size.
struct Cell {
    name: String,
    messages: Vec<Vec<u8>>,
}

fn cells(mib: usize) -> Vec<Cell> {
    let mut rng = Rng(0x0011_7692);
    let kinds: [(&str, Generator); 3] = [("json", json), ("text", text), ("binary", binary)];
    let mut cells = Vec::new();
    for (kind, make) in kinds {
        for size in [256, 4096, 65536] {
            let count = (mib << 20) / size;
            let messages = (0..count).map(|_| make(&mut rng, size)).collect();
            let label = if size >= 1024 {
                format!("{kind}-{}K", size / 1024)
            } else {
                format!("{kind}-{size}")
            };
            cells.push(Cell {
                name: label,
                messages,
            });
        }
    }
    cells
}

/// This thread's CPU time in seconds, from Linux's `/proc/thread-self/schedstat`
/// (nanoseconds on a CPU): on a machine shared with other work it counts only our
/// own running, as Python's `time.thread_time` does on zlib's side. `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Best time in seconds of one call of `f`, over `RUNS` runs that each repeat it
/// for at least 0.1 s (schedstat moves in scheduler ticks) and at most 1000 times:
/// CPU time where the system gives it, wall time otherwise.
fn best(mut f: impl FnMut()) -> f64 {
    (0..RUNS)
        .map(|_| {
            let (cpu, wall) = (cpu_seconds(), Instant::now());
            let mut calls = 0;
            while calls < 1000 && (calls == 0 || wall.elapsed().as_secs_f64() < 0.1) {
                f();
                calls += 1;
            }
            let secs = match (cpu, cpu_seconds()) {
                (Some(a), Some(b)) => b - a,
                _ => wall.elapsed().as_secs_f64(),
            };
            secs / f64::from(calls)
        })
        .fold(f64::INFINITY, f64::min)
}

/// stdws's figures for a cell, its compressor trying `chain` positions per match:
/// compress MB/s, ratio, inflate MB/s; and its payloads.
fn measure(cell: &Cell, chain: usize) -> (f64, f64, f64, Vec<Vec<u8>>) {
    let raw: usize = cell.messages.iter().map(Vec::len).sum();
    let mut payloads: Vec<Vec<u8>> = cell.messages.iter().map(|_| Vec::new()).collect();
    let compress_secs = best(|| {
        let mut compressor = Compressor::with_chain(15, true, chain);
        for (m, p) in cell.messages.iter().zip(payloads.iter_mut()) {
            p.clear();
            compressor.compress_message(m, p);
        }
    });
    let compressed: usize = payloads.iter().map(Vec::len).sum();
    let mut back: Vec<u8> = Vec::with_capacity(cell.messages[0].len());
    let inflate_secs = best(|| {
        let mut inflater = Inflater::new(15, true);
        for p in &payloads {
            back.clear();
            inflater
                .inflate_message(p, &mut back, 1 << 20)
                .expect("stdws inflates its own payloads");
        }
    });
    let mut inflater = Inflater::new(15, true);
    for (p, m) in payloads.iter().zip(&cell.messages) {
        back.clear();
        inflater.inflate_message(p, &mut back, 1 << 20).unwrap();
        assert!(back == *m, "{}: a message did not come back", cell.name);
    }
    let mb = raw as f64 / 1e6;
    (
        mb / compress_secs,
        compressed as f64 / raw as f64,
        mb / inflate_secs,
        payloads,
    )
}

/// Writes a message list: count, then each one's length and bytes (u32 LE).
fn write_list(path: &Path, list: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
    for m in list {
        out.extend_from_slice(&(m.len() as u32).to_le_bytes());
        out.extend_from_slice(m);
    }
    std::fs::write(path, out).expect("scratch file written");
}

/// zlib's figures per cell from scripts/deflate_bench.py, by cell name.
fn zlib(dir: &Path, names: &[String]) -> Result<HashMap<String, Vec<f64>>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/deflate_bench.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .args(names)
        .output()
        .map_err(|e| format!("python3 cannot be run: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut figures = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut fields = line.split_whitespace();
        if fields.next() != Some("ZLIB") {
            continue;
        }
        let Some(name) = fields.next() else { continue };
        let values: Vec<f64> = fields.filter_map(|f| f.parse().ok()).collect();
        figures.insert(name.to_string(), values);
    }
    Ok(figures)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let with_zlib = !args.iter().any(|a| a == "--no-zlib");
    let mib = args
        .iter()
        .position(|a| a == "--mib")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(4usize)
        .clamp(1, 64);
    let dir: PathBuf =
        std::env::temp_dir().join(format!("stdws-deflate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let chain = stdws::deflate::compress::DEFAULT_CHAIN;
    println!(
        "# DEFLATE, window 15, context takeover, {mib} MiB per cell; MB/s of raw bytes \
         per CPU second, best of {RUNS}; ratio = compressed / raw"
    );
    println!(
        "# stdws compresses with its default chain ({chain} positions tried per match) and \
         with 4; zlib inflates stdws's payloads"
    );
    println!(
        "{:<11} {:>17} {:>17} {:>17} {:>17} | {:>9} {:>9} | goals",
        "data", "stdws", "stdws chain 4", "zlib-1", "zlib-6", "stdws inf", "zlib inf"
    );
    let (mut missed, mut skipped) = (0, None);
    for cell in cells(mib) {
        let (c, ratio, i, payloads) = measure(&cell, chain);
        let (c4, ratio4, _, _) = measure(&cell, 4);
        let pair = |speed: f64, ratio: f64| format!("{speed:7.1} MB/s {ratio:.3}");
        let ours = format!("{:>17} {:>17}", pair(c, ratio), pair(c4, ratio4));
        // zlib right after stdws, cell by cell, so a shared machine's load weighs on
        // both alike.
        let theirs = match (with_zlib, &skipped) {
            (true, None) => {
                write_list(&dir.join(format!("{}.msgs", cell.name)), &cell.messages);
                write_list(&dir.join(format!("{}.stdws", cell.name)), &payloads);
                zlib(&dir, std::slice::from_ref(&cell.name))
                    .map_err(|why| skipped = Some(why))
                    .ok()
                    .and_then(|mut f| f.remove(&cell.name))
            }
            (false, _) => {
                skipped = Some("--no-zlib".to_string());
                None
            }
            _ => None,
        };
        let Some(&[c1, r1, c6, r6, zi]) = theirs.as_deref() else {
            println!(
                "{:<11} {ours} {:>17} {:>17} | {i:9.1} {:>9} |",
                cell.name, "-", "-", "-"
            );
            continue;
        };
        let mut goals = Vec::new();
        for (ok, what) in [
            (c >= 0.5 * c1, "comp speed"),
            (ratio <= 1.15 * r1, "size"),
            (i >= 0.5 * zi, "inf speed"),
        ] {
            if !ok {
                goals.push(what);
                missed += 1;
            }
        }
        let verdict = match goals.is_empty() {
            true => "ok".to_string(),
            false => format!("MISSED {}", goals.join(", ")),
        };
        println!(
            "{:<11} {ours} {:>17} {:>17} | {i:9.1} {zi:9.1} | {verdict} (comp {:.2}x, size \
             {:.2}x of zlib-1; inflate {:.2}x of zlib)",
            cell.name,
            pair(c1, r1),
            pair(c6, r6),
            c / c1,
            ratio / r1,
            i / zi,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    match skipped {
        Some(why) => println!("# zlib: SKIPPED ({})", why.trim()),
        None => println!("# goals missed: {missed}"),
    }
    ExitCode::SUCCESS
}
