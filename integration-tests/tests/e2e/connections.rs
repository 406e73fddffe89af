//! Idle connections: every response says how long the server keeps an idle connection open
//! (`Keep-Alive: timeout=N`), and the server keeps it open that long. Clients that keep
//! connections (Node's HTTP agent, undici, Playwright's `route.fetch`) stop reusing one a second
//! before the announced time; without it they reuse it until the server closes it, and a
//! request sent as it closes fails with `ECONNRESET`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use quire_integration_tests::TestServer;

/// One response read from a kept connection: its status and headers (names in lower case).
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Sends `GET path` on `stream` (kept open) and reads the whole response.
fn get(stream: &mut BufReader<TcpStream>, host: &str, path: &str) -> Response {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    stream
        .get_mut()
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut line = String::new();
    stream.read_line(&mut line).expect("read the status line");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line, got {line:?} (was the connection closed?)"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        stream.read_line(&mut line).expect("read a header");
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').expect("a header line");
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let response = Response { status, headers };
    if let Some(length) = response.header("content-length") {
        let mut body = vec![0; length.parse().expect("a length")];
        stream.read_exact(&mut body).expect("read the body");
    } else {
        assert_eq!(
            response.header("transfer-encoding"),
            Some("chunked"),
            "a body with an end"
        );
        loop {
            line.clear();
            stream.read_line(&mut line).expect("read a chunk size");
            let size = usize::from_str_radix(line.trim(), 16).expect("a chunk size");
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).expect("read a chunk");
            if size == 0 {
                break;
            }
        }
    }
    response
}

/// The seconds `Keep-Alive: timeout=N` announces.
fn announced(response: &Response) -> u64 {
    let hint = response
        .header("keep-alive")
        .unwrap_or_else(|| panic!("no Keep-Alive header on a {}", response.status));
    hint.strip_prefix("timeout=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("Keep-Alive: {hint}"))
}

#[tokio::test]
async fn an_idle_connection_stays_open_as_long_as_every_response_says() {
    let server = TestServer::start().await;
    let host = server.base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let stream = TcpStream::connect(&host).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut stream = BufReader::new(stream);

        let ok = get(&mut stream, &host, "/healthz");
        assert_eq!(ok.status, 200);
        let seconds = announced(&ok);
        assert!(
            seconds >= 2,
            "an announced {seconds} s is too short to reuse a connection"
        );
        // Refusals and the site's own 404 say it too.
        let refused = get(&mut stream, &host, "/api/v1/posts");
        assert_eq!(refused.status, 401);
        assert_eq!(announced(&refused), seconds);
        let missing = get(&mut stream, &host, "/no-such-page/");
        assert_eq!(missing.status, 404);
        assert_eq!(announced(&missing), seconds);

        // A client told N seconds reuses the connection up to a second before them.
        std::thread::sleep(Duration::from_secs(seconds - 1));
        let again = get(&mut stream, &host, "/healthz");
        assert_eq!(again.status, 200, "the idle connection was still open");
    })
    .await
    .expect("the requests");
    server.stop().await;
}
