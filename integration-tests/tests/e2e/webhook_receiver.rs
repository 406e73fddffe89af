//! A webhook receiver for the tests: a few lines of HTTP/1.1 over a tokio listener on
//! 127.0.0.1 that records each request and answers from a script (a status, or never).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// What the receiver answers to the next request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// 200 with this body as `text/csv` (a data source for the datasets' fetch).
    Csv(&'static str),
    /// Never answers.
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Hit {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Answers in order; 200 when empty.
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

impl Receiver {
    pub async fn start(answers: &[Answer]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let receiver = Self {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
            ..Self::default()
        };
        let shared = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(shared.clone().serve(stream));
            }
        });
        receiver
    }

    /// Like `start`, over HTTPS with `tls` (its `base` is `https://127.0.0.1:<port>`).
    pub async fn start_tls(answers: &[Answer], tls: Arc<rustls::ServerConfig>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let receiver = Self {
            base: format!("https://{}", listener.local_addr().expect("addr")),
            answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
            ..Self::default()
        };
        let (shared, acceptor) = (receiver.clone(), tokio_rustls::TlsAcceptor::from(tls));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (shared, acceptor) = (shared.clone(), acceptor.clone());
                tokio::spawn(async move {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        shared.serve(stream).await;
                    }
                });
            }
        });
        receiver
    }

    async fn serve(self, mut stream: impl AsyncRead + AsyncWrite + Unpin) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head_end, length) = loop {
            let Ok(n) = stream.read(&mut chunk).await else { return };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length);
            }
        };
        while buf.len() < head_end + length {
            let Ok(n) = stream.read(&mut chunk).await else { return };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.lines();
        let path = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("").to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        let body = buf[head_end..head_end + length].to_vec();
        self.hits.lock().expect("hits").push(Hit { path, headers, body });
        let answer = self
            .answers
            .lock()
            .expect("answers")
            .pop_front()
            .unwrap_or(Answer::Status(200));
        match answer {
            Answer::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
            Answer::Status(status) => {
                let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope");
                let _ = stream.write_all(reply.as_bytes()).await;
            }
            Answer::Csv(body) => {
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            }
        }
    }

    pub fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits
            .lock()
            .expect("hits")
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }

    /// Waits until `path` got at least `n` requests.
    pub async fn wait_for(&self, path: &str, n: usize) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let hits = self.hits(path);
            if hits.len() >= n {
                return hits;
            }
            assert!(Instant::now() < deadline, "{path} got {} of {n} deliveries", hits.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
