//! A load generator for `scripts/bench.sh`, built on the crate's own client.
//!
//! ```text
//! loadgen small     --port P [--conns 50 --window 16 --size 64 --secs 5 --pid PID]
//! loadgen large     --port P [--conns 1 --window 2 --size 1048576 --secs 5 --raw]
//! loadgen handshake --port P [--threads 8 --secs 5 --pid PID]
//! loadgen idle      --port P --pid PID [--n 5000 --raw]
//! ```
//!
//! Each scenario prints one `RESULT` line of `name=value` pairs. Connections go to
//! 127.0.0.1 only, every loop is bounded by a deadline and a count, and every echo is
//! checked (length always, content for every small message and every large one).
//! `--raw` speaks plain TCP to an echo server such as `examples/tcp_echo.rs`, the
//! reference for how fast the loopback can move bytes at all.
//!
//! Connections open with [`stdws::client::connect`]; small messages go out through
//! the library's [`Writer`](stdws::Writer) (queued with `feed_ref`, flushed once per
//! batch) and every echo comes back through its [`Reader`](stdws::Reader). Large
//! messages are masked once up front and written as raw frames, so that the client
//! spends its time moving bytes rather than re-masking a megabyte per message.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use stdws::frame::{apply_mask, encode_header, Opcode, MAX_HEADER_LEN};
use stdws::{CloseCode, MessageRef};

type Res<T> = Result<T, String>;

/// Time allowed after the measured window for the last echoes and the close.
const DRAIN: Duration = Duration::from_secs(10);

/// No scenario sends more than this many messages per connection, whatever the time.
const MAX_MESSAGES: u64 = 100_000_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first() else {
        eprintln!("usage: loadgen small|large|handshake|idle --port P [options]");
        return ExitCode::from(2);
    };
    let opts = Options::parse(&args[1..]);
    let result = match scenario.as_str() {
        "small" => small(&opts),
        "large" => large(&opts),
        "handshake" => handshake(&opts),
        "idle" => idle(&opts),
        other => Err(format!("unknown scenario {other}")),
    };
    match result {
        Ok(line) => {
            println!("RESULT {scenario} {line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen {scenario}: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs and `--flag`s.
struct Options(HashMap<String, String>);

impl Options {
    fn parse(args: &[String]) -> Options {
        let mut map = HashMap::new();
        let mut i = 0;
        while i < args.len() {
            let name = args[i].trim_start_matches("--").to_string();
            match args.get(i + 1).filter(|v| !v.starts_with("--")) {
                Some(value) => {
                    map.insert(name, value.clone());
                    i += 2;
                }
                None => {
                    map.insert(name, String::new());
                    i += 1;
                }
            }
        }
        Options(map)
    }

    fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        self.0
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    fn flag(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn port(&self) -> Res<u16> {
        self.0
            .get("port")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| "--port is required".to_string())
    }

    fn secs(&self) -> Duration {
        Duration::from_secs_f64(self.get("secs", 5.0f64).clamp(0.1, 60.0))
    }
}

/// A payload that differs per connection and per slot, so a misdirected or
/// reordered echo is caught.
fn payload(conn: usize, slot: usize, size: usize) -> Vec<u8> {
    let mut x = (conn as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (slot as u64 + 1);
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn connect(port: u16) -> Res<stdws::client::Connected<TcpStream>> {
    stdws::client::connect(&format!("ws://127.0.0.1:{port}/")).map_err(|e| e.to_string())
}

/// Server CPU time (user + system, all threads) from `/proc/PID/stat`, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Resident memory of a process, in KiB, from `/proc/PID/status`.
fn rss_kib(pid: u32) -> Res<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS".to_string())
}

/// Measures server CPU over the window `[start, end)` while the load runs.
fn cpu_during(pid: u32, start: Instant, end: Instant) -> Option<f64> {
    if pid == 0 {
        return None;
    }
    thread::sleep(start.saturating_duration_since(Instant::now()));
    let before = cpu_seconds(pid)?;
    thread::sleep(end.saturating_duration_since(Instant::now()));
    Some(cpu_seconds(pid)? - before)
}

fn join_all<T>(handles: Vec<thread::JoinHandle<Res<T>>>) -> Res<Vec<T>> {
    handles
        .into_iter()
        .map(|h| h.join().map_err(|_| "a load thread panicked".to_string())?)
        .collect()
}

/// One second of warm-up, then the measured window.
fn window(opts: &Options) -> (Instant, Instant) {
    let start = Instant::now() + Duration::from_secs(1);
    (start, start + opts.secs())
}

// ---------------------------------------------------------------- small

/// Many connections, each keeping `window` small binary messages in flight.
fn small(opts: &Options) -> Res<String> {
    let port = opts.port()?;
    let conns = opts.get("conns", 50usize).clamp(1, 1000);
    let window = opts.get("window", 16usize).clamp(1, 1000);
    let size = opts.get("size", 64usize).clamp(1, 1 << 20);
    let (start, end) = self::window(opts);
    let handles: Vec<_> = (0..conns)
        .map(|c| thread::spawn(move || small_conn(port, c, window, size, start, end)))
        .collect();
    let cpu = cpu_during(opts.get("pid", 0), start, end);
    let counts = join_all(handles)?;
    let total: u64 = counts.iter().sum();
    let secs = (end - start).as_secs_f64();
    let mut line = format!("msgs_s={:.0}", total as f64 / secs);
    if let Some(cpu) = cpu {
        line += &format!(" cpu_us_msg={:.2}", cpu * 1e6 / total.max(1) as f64);
    }
    Ok(line)
}

fn small_conn(
    port: u16,
    conn: usize,
    window: usize,
    size: usize,
    start: Instant,
    end: Instant,
) -> Res<u64> {
    let payloads: Vec<Vec<u8>> = (0..window).map(|k| payload(conn, k, size)).collect();
    let socket = connect(port)?.socket;
    socket
        .get_ref()
        .set_read_timeout(Some(DRAIN * 2))
        .map_err(|e| e.to_string())?;
    let (mut reader, writer) = socket.split().map_err(|e| e.to_string())?;
    let send = |k: usize| writer.feed_ref(MessageRef::Binary(&payloads[k % window]));
    for k in 0..window {
        send(k).map_err(|e| e.to_string())?;
    }
    writer.flush().map_err(|e| e.to_string())?;
    let (mut sent, mut received, mut counted) = (window, 0usize, 0u64);
    let mut closing = false;
    loop {
        match reader.read_ref() {
            Ok(MessageRef::Binary(b)) => {
                if b != payloads[received % window] {
                    return Err(format!("conn {conn}: echo {received} differs"));
                }
                received += 1;
            }
            Ok(MessageRef::Close(_)) if closing => break,
            Ok(other) => return Err(format!("conn {conn}: unexpected {other:?}")),
            Err(e) => return Err(format!("conn {conn}: {e}")),
        }
        let now = Instant::now();
        if now >= start && now < end {
            counted += 1;
        }
        if now > end + DRAIN {
            return Err(format!("conn {conn}: draining took too long"));
        }
        if now >= end || sent as u64 >= MAX_MESSAGES {
            writer.flush().map_err(|e| e.to_string())?;
            if !closing && received == sent {
                closing = true;
                writer
                    .close(CloseCode::NORMAL, "")
                    .map_err(|e| e.to_string())?;
            }
            continue;
        }
        send(sent).map_err(|e| e.to_string())?;
        sent += 1;
        if !reader.has_buffered_input() {
            writer.flush().map_err(|e| e.to_string())?;
        }
    }
    Ok(counted)
}

// ---------------------------------------------------------------- large

/// A few connections, each with `window` large binary messages in flight: a writer
/// thread sends, this thread reads and checks the echoes.
fn large(opts: &Options) -> Res<String> {
    let port = opts.port()?;
    let conns = opts.get("conns", 1usize).clamp(1, 64);
    let window = opts.get("window", 2usize).clamp(1, 64);
    let size = opts.get("size", 1usize << 20).clamp(1, 16 << 20);
    let raw = opts.flag("raw");
    let (start, end) = self::window(opts);
    let handles: Vec<_> = (0..conns)
        .map(|c| thread::spawn(move || large_conn(port, c, window, size, raw, start, end)))
        .collect();
    let cpu = cpu_during(opts.get("pid", 0), start, end);
    let counts = join_all(handles)?;
    let total: u64 = counts.iter().sum();
    let secs = (end - start).as_secs_f64();
    let mut line = format!("mb_s={:.0}", (total * size as u64) as f64 / secs / 1e6);
    if let Some(cpu) = cpu {
        line += &format!(" cpu_us_msg={:.0}", cpu * 1e6 / total.max(1) as f64);
    }
    Ok(line)
}

/// Counts messages sent but not yet echoed, so the writer keeps `window` in flight.
#[derive(Default)]
struct InFlight {
    echoed: Mutex<u64>,
    changed: Condvar,
}

fn large_conn(
    port: u16,
    conn: usize,
    window: usize,
    size: usize,
    raw: bool,
    start: Instant,
    end: Instant,
) -> Res<u64> {
    let payloads: Arc<Vec<Vec<u8>>> = Arc::new((0..2).map(|k| payload(conn, k, size)).collect());
    let (frames, mut reader, stream) = if raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(DRAIN * 2))
            .map_err(|e| e.to_string())?;
        let frames = payloads.as_ref().clone();
        (frames, None, stream)
    } else {
        let socket = connect(port)?.socket;
        socket
            .get_ref()
            .set_read_timeout(Some(DRAIN * 2))
            .map_err(|e| e.to_string())?;
        let stream = socket.get_ref().try_clone().map_err(|e| e.to_string())?;
        let frames = payloads.iter().map(|p| masked_frame(p, conn)).collect();
        let (reader, _writer) = socket.split().map_err(|e| e.to_string())?;
        (frames, Some(reader), stream)
    };
    let in_flight = Arc::new(InFlight::default());
    let writer_state = in_flight.clone();
    let mut out = stream.try_clone().map_err(|e| e.to_string())?;
    let writer = thread::spawn(move || -> Res<u64> {
        let mut sent = 0u64;
        while Instant::now() < end && sent < MAX_MESSAGES {
            let mut echoed = lock(&writer_state.echoed);
            while sent - *echoed >= window as u64 && Instant::now() < end {
                echoed = writer_state
                    .changed
                    .wait_timeout(echoed, Duration::from_millis(50))
                    .map_err(|_| "poisoned")?
                    .0;
            }
            drop(echoed);
            if Instant::now() >= end {
                break;
            }
            out.write_all(&frames[(sent % 2) as usize])
                .map_err(|e| format!("write: {e}"))?;
            sent += 1;
        }
        if raw {
            out.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
        } else {
            out.write_all(&[0x88, 0x80, 0, 0, 0, 0])
                .map_err(|e| e.to_string())?;
        }
        Ok(sent)
    });

    let (mut received, mut counted) = (0u64, 0u64);
    let mut raw_buf = vec![0u8; 256 * 1024];
    let mut raw_at = 0usize;
    let mut stream = stream;
    loop {
        let completed = match reader.as_mut() {
            Some(reader) => match reader.read_ref() {
                Ok(MessageRef::Binary(b)) => {
                    if b.len() != size || b != payloads[(received % 2) as usize] {
                        return Err(format!("conn {conn}: echo {received} differs"));
                    }
                    1
                }
                Ok(MessageRef::Close(_)) => break,
                Ok(other) => return Err(format!("conn {conn}: unexpected {other:?}")),
                Err(e) => return Err(format!("conn {conn}: {e}")),
            },
            None => {
                let n = stream
                    .read(&mut raw_buf)
                    .map_err(|e| format!("read: {e}"))?;
                if n == 0 {
                    break;
                }
                // One read may hold the end of one message and the start of the next.
                let (mut piece, mut completed) = (&raw_buf[..n], 0);
                while !piece.is_empty() {
                    let expected = &payloads[((received + completed) % 2) as usize];
                    let take = piece.len().min(size - raw_at);
                    if piece[..take] != expected[raw_at..raw_at + take] {
                        return Err(format!("conn {conn}: raw echo differs"));
                    }
                    raw_at += take;
                    piece = &piece[take..];
                    if raw_at == size {
                        raw_at = 0;
                        completed += 1;
                    }
                }
                completed
            }
        };
        for _ in 0..completed {
            received += 1;
            note_echo(&in_flight, &mut counted, start, end);
        }
        if Instant::now() > end + DRAIN {
            return Err(format!("conn {conn}: draining took too long"));
        }
    }
    let sent = writer.join().map_err(|_| "writer panicked")??;
    if received != sent {
        return Err(format!("conn {conn}: {received} of {sent} echoed"));
    }
    Ok(counted)
}

fn note_echo(in_flight: &InFlight, counted: &mut u64, start: Instant, end: Instant) {
    let now = Instant::now();
    if now >= start && now < end {
        *counted += 1;
    }
    *lock(&in_flight.echoed) += 1;
    in_flight.changed.notify_one();
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A client binary frame (RFC 6455 §5.2), masked with a key of this connection's.
fn masked_frame(payload: &[u8], conn: usize) -> Vec<u8> {
    let key = (0x5A17_C0DE_u32 ^ conn as u32).to_be_bytes();
    let mut header = [0u8; MAX_HEADER_LEN];
    let n = encode_header(
        &mut header,
        true,
        Opcode::Binary,
        payload.len() as u64,
        Some(key),
    );
    let mut frame = header[..n].to_vec();
    frame.extend_from_slice(payload);
    apply_mask(&mut frame[n..], key, 0);
    frame
}

// ---------------------------------------------------------------- handshake

/// Threads opening connections back to back: handshake, close handshake, and the
/// server's end of the TCP connection.
fn handshake(opts: &Options) -> Res<String> {
    let port = opts.port()?;
    let threads = opts.get("threads", 8usize).clamp(1, 64);
    let (start, end) = self::window(opts);
    let handles: Vec<_> = (0..threads)
        .map(|_| thread::spawn(move || handshake_loop(port, start, end)))
        .collect();
    let cpu = cpu_during(opts.get("pid", 0), start, end);
    let total: u64 = join_all(handles)?.iter().sum();
    let secs = (end - start).as_secs_f64();
    let mut line = format!("hs_s={:.0}", total as f64 / secs);
    if let Some(cpu) = cpu {
        line += &format!(" cpu_us_hs={:.0}", cpu * 1e6 / total.max(1) as f64);
    }
    Ok(line)
}

fn handshake_loop(port: u16, start: Instant, end: Instant) -> Res<u64> {
    let mut counted = 0;
    for _ in 0..MAX_MESSAGES {
        if Instant::now() >= end {
            break;
        }
        let mut ws = connect(port)?.socket;
        ws.close(CloseCode::NORMAL, "").map_err(|e| e.to_string())?;
        loop {
            match ws.read_ref() {
                Ok(MessageRef::Close(_)) => break,
                Ok(_) => {}
                Err(e) => return Err(format!("waiting for the close reply: {e}")),
            }
        }
        // The server closes TCP first (§7.1.1): wait for its FIN.
        let mut stream: &TcpStream = ws.get_ref();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut [0u8; 16]) {
            Ok(0) => {}
            Ok(_) => return Err("bytes after the close frame".into()),
            Err(e) => return Err(format!("waiting for the server's FIN: {e}")),
        }
        let now = Instant::now();
        if now >= start && now < end {
            counted += 1;
        }
    }
    Ok(counted)
}

// ---------------------------------------------------------------- idle

/// Opens `n` connections and leaves them idle; reports the server's added resident
/// memory per connection, then checks that a sample still echoes.
fn idle(opts: &Options) -> Res<String> {
    let port = opts.port()?;
    let pid: u32 = opts.get("pid", 0);
    if pid == 0 {
        return Err("idle needs --pid".into());
    }
    let n = opts.get("n", 5000usize).clamp(1, 20_000);
    let raw = opts.flag("raw");
    let deadline = Instant::now() + Duration::from_secs(120);
    let before = rss_kib(pid)?;
    let mut conns: Vec<TcpStream> = Vec::with_capacity(n);
    for i in 0..n {
        if Instant::now() > deadline {
            return Err(format!("only {i} connections opened in time"));
        }
        let stream = if raw {
            let mut s = TcpStream::connect(("127.0.0.1", port))
                .map_err(|e| format!("conn {i}: {e} (ulimit -n?)"))?;
            // A one-byte echo stands in for the upgrade: the server thread is running.
            let mut b = [b'x'];
            s.write_all(&b)
                .and_then(|()| s.read_exact(&mut b))
                .map_err(|e| format!("conn {i}: {e}"))?;
            s
        } else {
            let socket = connect(port).map_err(|e| format!("conn {i}: {e} (ulimit -n?)"))?;
            socket
                .socket
                .get_ref()
                .try_clone()
                .map_err(|e| e.to_string())?
        };
        conns.push(stream);
    }
    thread::sleep(Duration::from_secs(1));
    let after = rss_kib(pid)?;
    let step = (n / 10).max(1);
    let mut sampled = 0;
    for (i, stream) in conns.iter_mut().enumerate().step_by(step) {
        let data = payload(i, 0, 32);
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut echo = vec![0u8; data.len()];
        if raw {
            stream.write_all(&data).map_err(|e| e.to_string())?;
            stream.read_exact(&mut echo).map_err(|e| e.to_string())?;
        } else {
            stream
                .write_all(&masked_frame(&data, i))
                .map_err(|e| e.to_string())?;
            let mut header = [0u8; 2];
            stream.read_exact(&mut header).map_err(|e| e.to_string())?;
            if header != [0x82, data.len() as u8] {
                return Err(format!("conn {i}: unexpected frame header {header:02x?}"));
            }
            stream.read_exact(&mut echo).map_err(|e| e.to_string())?;
        }
        if echo != data {
            return Err(format!("idle conn {i} did not echo"));
        }
        sampled += 1;
    }
    Ok(format!(
        "kib_conn={:.1} rss_mib={:.0} conns={n} echoed={sampled}",
        after.saturating_sub(before) as f64 / n as f64,
        after as f64 / 1024.0
    ))
}
