//! The built-in page at `/`: a small echo console that opens a WebSocket back to the
//! server that served it.

use stdws::http::{Head, Response};

/// The page's HTML.
pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>stdws echo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
  #log { border: 1px solid #ccc; height: 18rem; overflow-y: auto; padding: .5rem; font-family: monospace; white-space: pre-wrap; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  input { flex: 1; }
</style>
</head>
<body>
<h1>stdws echo</h1>
<p>This page opened a WebSocket to the server that sent it. Type a message: the server echoes it back.</p>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="a message"><button>Send</button></form>
<script>
  const log = (line) => { const el = document.getElementById('log'); el.textContent += line + '\n'; el.scrollTop = el.scrollHeight; };
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
  const ws = new WebSocket(url);
  ws.onopen = () => log('open ' + url);
  ws.onmessage = (e) => log('< ' + e.data);
  ws.onclose = (e) => log('closed ' + e.code + (e.reason ? ' ' + e.reason : ''));
  ws.onerror = () => log('error');
  document.getElementById('form').onsubmit = (e) => {
    e.preventDefault();
    const input = document.getElementById('text');
    if (ws.readyState === WebSocket.OPEN) { ws.send(input.value); log('> ' + input.value); }
    input.value = '';
  };
</script>
</body>
</html>
"#;

/// The page at `/`, 404 elsewhere.
pub fn serve(head: &Head) -> Response {
    if head.path() == "/" || head.path() == "/index.html" {
        Response::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(PAGE.as_bytes().to_vec())
    } else {
        Response::error(404, "not found")
    }
}
