//! One broadcast room under load, for `scripts/bench.sh`: MEMBERS members spread
//! round-robin over the given stdws `--broadcast` instances (one port: one instance;
//! three ports: three instances sharing the room through Redis), and one publisher on
//! the first instance.
//!
//! ```text
//! room_bench --ports P1[,P2,...] [--members 300 --secs 5 --size 64 --window 32]
//! ```
//!
//! The publisher sends binary messages carrying a sequence number and the time they
//! were sent, keeping at most `--window` of them ahead of the slowest member (so that
//! no member's queue overflows and the figure is the room's pace, not a pile-up).
//! Every member checks that it receives every message once, in order, and records
//! each one's latency, send to receipt, on the one clock all threads share. Before
//! the measured window, probes are sent until every member has heard one: the room
//! is then subscribed on every instance.
//!
//! Prints one line: `RESULT rooms members=... instances=... msgs_s=... deliveries_s=...
//! p50_us=... p99_us=...` (messages published per second, messages received per
//! second by all members together, latency median and 99th percentile). Connections
//! go to 127.0.0.1 only; every loop is bounded in time and count.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use stdws::{Message, MessageRef, WebSocket};

/// Most messages the publisher sends, whatever the time.
const MAX_MESSAGES: u64 = 10_000_000;

/// How long the probes may take to reach every member.
const WARM_UP: Duration = Duration::from_secs(20);

/// A member that hears nothing this long gives up.
const SILENCE: Duration = Duration::from_secs(10);

/// The sequence number of a probe (not counted) and of the last message.
const PROBE: u64 = u64::MAX - 1;
const END: u64 = u64::MAX;

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("RESULT rooms {line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("room_bench: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn option(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default.to_string(), Clone::clone)
}

fn number(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    let v = option(args, name, &default.to_string());
    v.parse()
        .map_err(|_| format!("{name}: '{v}' is not a number"))
}

fn open(port: &str) -> Result<WebSocket<std::net::TcpStream>, String> {
    let url = format!("ws://127.0.0.1:{port}/bench-room");
    let ws = stdws::client::connect(&url)
        .map_err(|e| format!("{url}: {e}"))?
        .socket;
    ws.get_ref()
        .set_read_timeout(Some(SILENCE))
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// What one member saw: messages received, and each one's latency in microseconds.
struct Heard {
    latencies: Vec<u32>,
}

fn run() -> Result<String, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ports: Vec<String> = option(&args, "--ports", "")
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if ports.is_empty() {
        return Err("--ports P1[,P2,...] is required".into());
    }
    let members = number(&args, "--members", 300)? as usize;
    let secs = number(&args, "--secs", 5)?;
    let size = (number(&args, "--size", 64)? as usize).max(16);
    let window = number(&args, "--window", 32)?.max(1);

    let clock = Instant::now();
    let received: Arc<Vec<AtomicU64>> = Arc::new((0..members).map(|_| AtomicU64::new(0)).collect());
    let heard_probe: Arc<AtomicU64> = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for i in 0..members {
        let mut ws = open(&ports[i % ports.len()])?;
        let (received, heard_probe) = (received.clone(), heard_probe.clone());
        threads.push(thread::spawn(move || -> Result<Heard, String> {
            let mut latencies = Vec::new();
            let mut next = 0u64;
            let mut probed = false;
            loop {
                let message = ws.read().map_err(|e| format!("member {i}: {e}"))?;
                let Message::Binary(bytes) = message else {
                    return Err(format!("member {i}: not a binary message"));
                };
                let word = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap());
                match word(0) {
                    PROBE => {
                        if !probed {
                            probed = true;
                            heard_probe.fetch_add(1, Ordering::Release);
                        }
                    }
                    END => return Ok(Heard { latencies }),
                    seq if seq == next => {
                        let sent = word(8);
                        let now = clock.elapsed().as_nanos() as u64;
                        latencies.push(((now.saturating_sub(sent)) / 1000) as u32);
                        next += 1;
                        received[i].store(next, Ordering::Release);
                    }
                    seq => return Err(format!("member {i}: got {seq}, expected {next}")),
                }
            }
        }));
    }

    let mut publisher = open(&ports[0])?;
    let mut payload = vec![b'p'; size];
    let mut send = |publisher: &mut WebSocket<_>, seq: u64| -> Result<(), String> {
        payload[..8].copy_from_slice(&seq.to_be_bytes());
        let now = clock.elapsed().as_nanos() as u64;
        payload[8..16].copy_from_slice(&now.to_be_bytes());
        publisher
            .send_ref(MessageRef::Binary(&payload))
            .map_err(|e| format!("publisher: {e}"))
    };
    let warm_until = Instant::now() + WARM_UP;
    while heard_probe.load(Ordering::Acquire) < members as u64 {
        if Instant::now() > warm_until {
            return Err(format!(
                "only {} of {members} members heard a probe",
                heard_probe.load(Ordering::Acquire)
            ));
        }
        send(&mut publisher, PROBE)?;
        thread::sleep(Duration::from_millis(50));
    }
    // Probes still on their way are skipped by the members; let them arrive.
    thread::sleep(Duration::from_millis(200));

    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let mut sent = 0u64;
    while Instant::now() < until && sent < MAX_MESSAGES {
        let slowest = received
            .iter()
            .map(|r| r.load(Ordering::Acquire))
            .min()
            .unwrap_or(sent);
        if sent - slowest >= window {
            thread::sleep(Duration::from_micros(50));
            continue;
        }
        send(&mut publisher, sent)?;
        sent += 1;
    }
    // The last messages reach everyone; the time they take counts.
    let drain_until = Instant::now() + SILENCE;
    while received.iter().any(|r| r.load(Ordering::Acquire) < sent) {
        if Instant::now() > drain_until {
            return Err("members never received the last messages".into());
        }
        thread::sleep(Duration::from_micros(50));
    }
    let elapsed = started.elapsed().as_secs_f64();
    send(&mut publisher, END)?;

    let mut latencies = Vec::with_capacity(members * sent as usize);
    for t in threads {
        let heard = t.join().map_err(|_| "a member panicked")??;
        if heard.latencies.len() as u64 != sent {
            return Err(format!("a member got {} of {sent}", heard.latencies.len()));
        }
        latencies.extend(heard.latencies);
    }
    let _ = publisher.close(stdws::CloseCode::NORMAL, "");
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    if latencies.is_empty() {
        return Err("nothing was delivered".into());
    }
    Ok(format!(
        "members={members} instances={} msgs_s={:.0} deliveries_s={:.0} p50_us={} p99_us={}",
        ports.len(),
        sent as f64 / elapsed,
        latencies.len() as f64 / elapsed,
        at(0.5),
        at(0.99)
    ))
}
