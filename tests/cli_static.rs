//! `--staticdir` against the built binary: files with their types, index.html for
//! directories, HEAD, 404, 405, and every way out of the directory refused (403).

mod cli_support;
mod common;

use cli_support::*;
use std::io::{Read, Write};
use std::path::PathBuf;

/// A fresh directory tree for one test: `root/` (served) beside `secret.txt`.
struct Tree {
    base: PathBuf,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let base = std::env::temp_dir().join(format!(
            "stdws-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("index.html"), "<p>index-page-k4</p>").unwrap();
        std::fs::write(root.join("style.css"), "body{color:red}/*css-k5*/").unwrap();
        std::fs::write(root.join("sub").join("index.html"), "sub-index-k6").unwrap();
        std::fs::write(root.join("space name.txt"), "spaced-k7").unwrap();
        std::fs::write(base.join("secret.txt"), "TOP-SECRET-OUTSIDE-k8").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.join("secret.txt"), root.join("escape.txt")).unwrap();
            std::os::unix::fs::symlink(&base, root.join("updir")).unwrap();
            std::os::unix::fs::symlink(root.join("style.css"), root.join("inside.css")).unwrap();
        }
        Tree { base }
    }

    fn root(&self) -> String {
        self.base.join("root").to_string_lossy().into_owned()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Sends one request with `method` and a raw `target`; returns (status, head, body).
fn request(server: &Stdws, method: &str, target: &str) -> (u16, String, Vec<u8>) {
    let mut s = common::connect(server.addr);
    write!(s, "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let (status, head) = common::read_response_head(&mut s);
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    (status, head, rest)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("Content-Length")
        .parse()
        .unwrap()
}

#[test]
fn files_types_and_indexes() {
    let tree = Tree::new("files");
    let server = Stdws::start(&["--staticdir", &tree.root()]);
    for (target, body, ctype) in [
        ("/", "<p>index-page-k4</p>", "text/html; charset=utf-8"),
        (
            "/index.html",
            "<p>index-page-k4</p>",
            "text/html; charset=utf-8",
        ),
        (
            "/style.css",
            "body{color:red}/*css-k5*/",
            "text/css; charset=utf-8",
        ),
        ("/sub", "sub-index-k6", "text/html; charset=utf-8"),
        ("/sub/", "sub-index-k6", "text/html; charset=utf-8"),
        (
            "/space%20name.txt",
            "spaced-k7",
            "text/plain; charset=utf-8",
        ),
        (
            "/style.css?v=1",
            "body{color:red}/*css-k5*/",
            "text/css; charset=utf-8",
        ),
    ] {
        let (status, head, got) = request(&server, "GET", target);
        assert_eq!(status, 200, "{target}: {head}");
        assert_eq!(String::from_utf8(got).unwrap(), body, "{target}");
        assert!(
            head.contains(&format!("Content-Type: {ctype}\r\n")),
            "{head}"
        );
        assert_eq!(content_length(&head), body.len());
    }
    // The directory has "/"; the inspector page stays at its fixed path.
    let (status, _, page) = request(&server, "GET", "/.stdws/inspector");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("<title>stdws inspector</title>"));
    #[cfg(unix)]
    {
        let (status, _, got) = request(&server, "GET", "/inside.css");
        assert_eq!(
            (status, got.as_slice()),
            (200, &b"body{color:red}/*css-k5*/"[..])
        );
    }
}

#[test]
fn head_404_and_405() {
    let tree = Tree::new("methods");
    let server = Stdws::start(&["--staticdir", &tree.root()]);
    let (status, head, body) = request(&server, "HEAD", "/style.css");
    assert_eq!(status, 200);
    assert_eq!(content_length(&head), "body{color:red}/*css-k5*/".len());
    assert!(body.is_empty(), "HEAD has no body");

    for target in ["/missing-k9.txt", "/sub/missing", "/empty/", "/empty"] {
        let (status, _, body) = request(&server, "GET", target);
        assert_eq!(status, 404, "{target}");
        assert_eq!(body, b"not found\n");
    }
    let (status, head, _) = request(&server, "POST", "/index.html");
    assert_eq!(status, 405);
    assert!(head.contains("Allow: GET, HEAD\r\n"), "{head}");
}

#[test]
fn no_way_out_of_the_directory() {
    let tree = Tree::new("fence");
    let server = Stdws::start(&["--staticdir", &tree.root()]);
    let mut attempts = vec![
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/sub/../style.css",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/.%2e/secret.txt",
    ];
    if cfg!(unix) {
        attempts.extend(["/escape.txt", "/updir/secret.txt", "/updir/"]);
    }
    for target in attempts {
        let (status, _, body) = request(&server, "GET", target);
        assert_eq!(status, 403, "{target}");
        assert!(
            !String::from_utf8_lossy(&body).contains("TOP-SECRET"),
            "{target} leaked the file"
        );
    }
    // Not a path at all, or a broken escape: 400, still nothing from outside.
    for target in ["/%zz", "/%2"] {
        let (status, _, body) = request(&server, "GET", target);
        assert_eq!(status, 400, "{target}");
        assert!(!String::from_utf8_lossy(&body).contains("TOP-SECRET"));
    }
}

#[test]
fn without_staticdir_the_page_stays() {
    let server = Stdws::start(&[]);
    let (status, head, body) = request(&server, "GET", "/");
    assert_eq!(status, 200);
    assert!(head.contains("Content-Type: text/html"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("<title>stdws inspector</title>"));
    let (status, _, _) = request(&server, "GET", "/style.css");
    assert_eq!(status, 404);
}

#[test]
fn missing_staticdir_is_a_usage_error() {
    let (code, _, err) = run(&["--port", "0", "--staticdir", "/nonexistent/stdws-k10"]);
    assert_eq!(code, 2);
    assert!(err.contains("--staticdir /nonexistent/stdws-k10"), "{err}");
}
