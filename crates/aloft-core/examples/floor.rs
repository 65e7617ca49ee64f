//! Servers that do nothing, for `bench/floor.sh`: what the 2 cores give a server that answers
//! every request with a fixed GetItem-shaped answer, once through hyper (as Aloft's gateway
//! serves) and once through a hand-written HTTP/1.1 loop. Aloft's figures are read against
//! these: the part of a request's cost that no service code can remove.
//!
//! `cargo run --release -p aloft-core --example floor -- hyper|raw PORT`

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BODY: &[u8] = br#"{"Item":{"pk":{"S":"k00001234"},"a":{"S":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"n":{"N":"42"}}}"#;
const REQUEST_ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(port)) = (args.get(1), args.get(2).and_then(|p| p.parse::<u16>().ok()))
    else {
        eprintln!("usage: floor hyper|raw PORT");
        std::process::exit(2);
    };
    let raw = match kind.as_str() {
        "hyper" => false,
        "raw" => true,
        _ => {
            eprintln!("usage: floor hyper|raw PORT");
            std::process::exit(2);
        }
    };
    // Two workers, as Aloft runs on this 2-core machine.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            if raw {
                tokio::spawn(serve_raw(stream));
            } else {
                tokio::spawn(serve_hyper(stream));
            }
        }
    });
}

async fn serve_hyper(stream: TcpStream) {
    let svc = hyper::service::service_fn(|req: hyper::Request<Incoming>| async move {
        req.into_body().collect().await?;
        let mut resp = hyper::Response::new(Full::new(Bytes::from_static(BODY)));
        let h = resp.headers_mut();
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.0"),
        );
        h.insert("x-amzn-requestid", HeaderValue::from_static(REQUEST_ID));
        Ok::<_, hyper::Error>(resp)
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
        .await;
}

/// Requests with a Content-Length only (what wrk sends); anything else ends the connection.
async fn serve_raw(mut stream: TcpStream) {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(512);
    loop {
        let (head, len) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let len = req
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok());
                    break (n, len.unwrap_or(0));
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => return,
            }
            buf.reserve(4096);
            if !matches!(stream.read_buf(&mut buf).await, Ok(n) if n > 0) {
                return;
            }
        };
        while buf.len() < head + len {
            if !matches!(stream.read_buf(&mut buf).await, Ok(n) if n > 0) {
                return;
            }
        }
        buf.drain(..head + len);
        out.clear();
        out.extend_from_slice(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: ",
        );
        out.extend_from_slice(REQUEST_ID.as_bytes());
        out.extend_from_slice(format!("\r\ncontent-length: {}\r\n\r\n", BODY.len()).as_bytes());
        out.extend_from_slice(BODY);
        if stream.write_all(&out).await.is_err() {
            return;
        }
    }
}
