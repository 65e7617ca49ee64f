//! A minimal HTTP/1.1 POST for `http` subscriptions (no TLS: `https` endpoints on the same
//! machine are reached over plain HTTP, which is what local test servers speak).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// POSTs `body` to `url`; returns the response status.
pub async fn post(url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<u16, String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("unsupported URL {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let io = async {
        let mut s = TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: Amazon Simple Notification Service Agent\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(body).await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 1024];
        let mut got = 0;
        while got < 12 {
            let n = s.read(&mut buf[got..]).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            got += n;
        }
        let line = String::from_utf8_lossy(&buf[..got]);
        line.split(' ')
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| "malformed HTTP response".to_string())
    };
    tokio::time::timeout(Duration::from_secs(15), io)
        .await
        .map_err(|_| "timed out".to_string())?
}
