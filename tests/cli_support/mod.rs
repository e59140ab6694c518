//! Shared by the `cli_*` tests: the built `stdws` binary on a free 127.0.0.1 port,
//! its stderr collected line by line, and killed when the test ends.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a test waits for anything the server should do at once. Generous: the
/// machine is shared and noisy.
pub const WAIT: Duration = Duration::from_secs(20);

/// A running `stdws`; killed and reaped on drop.
pub struct Stdws {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

/// A port that was free a moment ago: bind port 0, read it, release it.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

impl Stdws {
    /// Starts `stdws --port P ARGS...` and waits for its "listening" line. A port
    /// taken between the probe and the bind is retried with another.
    pub fn start(args: &[&str]) -> Stdws {
        Stdws::start_with_env(args, &[])
    }

    /// [`Stdws::start`] with extra environment variables for the server process.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Stdws {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(env!("CARGO_BIN_EXE_stdws"))
                .arg("--port")
                .arg(port.to_string())
                .args(args)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start stdws");
            let log = Arc::new(Mutex::new(Vec::new()));
            let sink = log.clone();
            let stderr = child.stderr.take().unwrap();
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { return };
                    sink.lock().unwrap().push(line);
                }
            });
            let mut server = Stdws {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                log,
            };
            let started =
                server.wait_for_log(|l| l.contains("listening on") || l.contains("cannot listen"));
            match started {
                Some(l) if l.contains("listening on") => return server,
                Some(_) => continue,
                None => panic!("stdws did not start: {:?}", server.log()),
            }
        }
        panic!("no free port after 5 tries");
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends the signal `name` (`TERM`, `INT`) to the server with the shell's `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{name} {}", self.child.id()))
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// The server's exit status, waiting up to `within` for it to exit.
    pub fn exit_status(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for stdws") {
                return Some(status);
            }
            if Instant::now() > until {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every stderr line so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The first stderr line that satisfies `pred`, waiting up to [`WAIT`].
    pub fn wait_for_log(&mut self, pred: impl Fn(&str) -> bool) -> Option<String> {
        let until = Instant::now() + WAIT;
        loop {
            if let Some(l) = self.log().into_iter().find(|l| pred(l)) {
                return Some(l);
            }
            if Instant::now() > until {
                return None;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                thread::sleep(Duration::from_millis(100));
                return self.log().into_iter().find(|l| pred(l));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Stdws {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to [`WAIT`] for `child` (started as `stdws ARGS...`) to exit; kills it
/// and fails the test if it does not.
pub fn wait_to_finish(child: &mut Child, args: &[&str]) -> std::process::ExitStatus {
    let until = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().expect("wait for stdws") {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("stdws {args:?} did not finish");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `stdws ARGS...` to completion: (exit code, stdout, stderr). It must end
/// within [`WAIT`] (its output is small enough to sit in the pipes meanwhile).
pub fn run(args: &[&str]) -> (i32, String, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_stdws"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run stdws");
    let status = wait_to_finish(&mut child, args);
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), out, err)
}

/// Reads one hixie-76 text frame (0x00 text 0xFF) and returns its text; `None` for
/// the closing frame 0xFF 0x00.
pub fn read_hixie_text(s: &mut std::net::TcpStream) -> Option<String> {
    use std::io::Read;
    let mut byte = [0u8; 1];
    s.read_exact(&mut byte).expect("hixie frame type");
    if byte[0] == 0xFF {
        s.read_exact(&mut byte).expect("hixie close");
        assert_eq!(byte[0], 0x00, "0xFF must be followed by 0x00");
        return None;
    }
    assert_eq!(byte[0], 0x00, "a text frame starts with 0x00");
    let mut text = Vec::new();
    loop {
        s.read_exact(&mut byte).expect("hixie text");
        if byte[0] == 0xFF {
            return Some(String::from_utf8(text).expect("hixie text is UTF-8"));
        }
        text.push(byte[0]);
    }
}

/// A hixie-76 text frame.
pub fn hixie_text(text: &str) -> Vec<u8> {
    let mut f = vec![0x00];
    f.extend_from_slice(text.as_bytes());
    f.push(0xFF);
    f
}

impl Stdws {
    /// A `KiB` line of the server's /proc/PID/status, such as `VmRSS` or `VmHWM`.
    pub fn status_kib(&self, key: &str) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).expect("the server's status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {path}"))
    }
}

/// Whether process `pid` is gone: no longer in /proc, or a zombie whose parent is no
/// longer `server` (reparented to init, which in a container may never reap it).
pub fn process_gone(pid: u32, server: u32) -> bool {
    match proc_stat(pid) {
        None => true,
        Some((state, ppid)) => state == 'Z' && ppid != server,
    }
}

/// (state, parent pid) of `pid` from /proc/PID/stat, or `None` if it is not there.
pub fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Waits until every pid in `pids` is gone ([`process_gone`]) or `within` passes;
/// the ones still there.
pub fn wait_gone(pids: &[u32], server: u32, within: Duration) -> Vec<u32> {
    let until = Instant::now() + within;
    loop {
        let left: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|&p| !process_gone(p, server))
            .collect();
        if left.is_empty() || Instant::now() > until {
            return left;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Nothing arrives on `s` within `within`; the read timeout is [`WAIT`] again after.
pub fn quiet_for(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 1];
    let nothing = matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
        || e.kind() == std::io::ErrorKind::TimedOut);
    s.set_read_timeout(Some(WAIT)).unwrap();
    nothing
}
