//! `--staticdir DIR`: files from one directory for plain GET and HEAD requests (the
//! server answers other methods 405 before asking).
//!
//! No request may reach outside DIR. The path is percent-decoded once, then split
//! on `/` (and `\`); a `..` segment is refused with 403 whether it was typed or
//! encoded (`%2e%2e`, `..%2f`). The file found is then canonicalized, which resolves
//! every symbolic link, and must still lie under the canonical DIR, or the answer is
//! 403 again. A directory is served as its `index.html`; there are no listings.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use stdws::http::{Head, Response};

/// Largest file served; a larger one is answered 500 rather than read into memory.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// A directory whose files are served.
#[derive(Debug, Clone)]
pub struct StaticFiles {
    root: PathBuf,
}

/// The Content-Type for a file name, by its extension; bytes when unknown.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("xml") => "application/xml",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("wasm") => "application/wasm",
        Some("pdf") => "application/pdf",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        _ => "application/octet-stream",
    }
}

/// `%XX` sequences decoded to bytes; `None` for a `%` not followed by two hex digits.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = char::from(hex[0]).to_digit(16)?;
            let lo = char::from(hex[1]).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Where a request path points inside the root, segment by segment, or why it may not.
fn relative_path(target_path: &str) -> Result<PathBuf, Response> {
    let bad = |why: &str| Response::error(400, why);
    if !target_path.starts_with('/') {
        return Err(bad("the path must start with /"));
    }
    let decoded = percent_decode(target_path).ok_or_else(|| bad("malformed %-escape"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad("the path is not UTF-8"))?;
    if decoded.contains('\0') {
        return Err(bad("the path holds a NUL byte"));
    }
    let mut relative = PathBuf::new();
    for segment in decoded.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => return Err(Response::error(403, "the path leaves the directory")),
            s if cfg!(windows) && s.contains(':') => {
                // A drive letter or stream name on Windows; never a file of ours.
                return Err(Response::error(403, "the path leaves the directory"));
            }
            s => relative.push(s),
        }
    }
    Ok(relative)
}

impl StaticFiles {
    /// Serves `dir`, which must exist; its canonical path is the fence.
    pub fn new(dir: &Path) -> std::io::Result<StaticFiles> {
        let root = fs::canonicalize(dir)?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(StaticFiles { root })
    }

    /// The answer to a GET or HEAD (the server leaves out the body for HEAD).
    pub fn serve(&self, head: &Head) -> Response {
        let relative = match relative_path(head.path()) {
            Ok(r) => r,
            Err(response) => return response,
        };
        let not_found = || Response::error(404, "not found");
        let Ok(mut file) = fs::canonicalize(self.root.join(relative)) else {
            return not_found();
        };
        if !file.starts_with(&self.root) {
            return Response::error(403, "the path leaves the directory");
        }
        if file.is_dir() {
            match fs::canonicalize(file.join("index.html")) {
                Ok(index) if index.starts_with(&self.root) => file = index,
                Ok(_) => return Response::error(403, "the path leaves the directory"),
                Err(_) => return not_found(),
            }
        }
        match read_file(&file) {
            Ok(Some(body)) => Response::new(200)
                .header("Content-Type", content_type(&file))
                .body(body),
            Ok(None) => Response::error(500, "file too large to serve"),
            Err(_) => not_found(),
        }
    }
}

/// A regular file's bytes, or `None` when it is over [`MAX_FILE_BYTES`].
fn read_file(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let file = fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Ok(None);
    }
    let mut body = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_BYTES).read_to_end(&mut body)?;
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_is_refused_however_it_is_written() {
        for path in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2E%2Fx",
            "/..%2fx",
            "/..%5cx",
            "/a\\..\\..\\x",
        ] {
            let r = relative_path(path).map(|_| ()).map_err(|r| r.status);
            assert_eq!(r, Err(403), "{path}");
        }
    }

    #[test]
    fn ordinary_paths() {
        assert_eq!(relative_path("/").unwrap(), PathBuf::new());
        assert_eq!(
            relative_path("//a/./b%20c.txt").unwrap(),
            PathBuf::from("a").join("b c.txt")
        );
        assert_eq!(relative_path("/%zz").map_err(|r| r.status).err(), Some(400));
    }

    #[test]
    fn types() {
        assert_eq!(
            content_type(Path::new("a/INDEX.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}
