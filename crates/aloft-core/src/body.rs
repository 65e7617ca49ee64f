//! The response body type: buffered bytes or a stream (S3 GETs stream files).

use bytes::Bytes;
use http_body::Body as _;
use http_body_util::{BodyExt, Full, combinators::BoxBody};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body, full or streaming.
pub type Body = BoxBody<Bytes, BoxError>;
pub type Response = http::Response<Body>;

/// A body from bytes already in memory.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body. `Empty` is zero-sized, so boxing it allocates nothing (`full(Bytes::new())`
/// allocated a box per call, and `AwsRequest::bytes` leaves one behind on every request).
pub fn empty() -> Body {
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed()
}

/// A body from a stream of chunks (e.g. a file read in pieces).
pub fn stream<S>(stream: S) -> Body
where
    S: futures_util::Stream<Item = Result<Bytes, BoxError>> + Send + Sync + 'static,
{
    use futures_util::StreamExt;
    BodyExt::boxed(http_body_util::StreamBody::new(
        stream.map(|r| r.map(http_body::Frame::data)),
    ))
}

/// Converts a buffered `http::Response<Bytes>` (what the codecs produce) into a [`Response`].
pub fn from_bytes(resp: http::Response<Bytes>) -> Response {
    resp.map(full)
}

/// Why a bounded read stopped.
#[derive(Debug)]
pub enum ReadError {
    TooLarge,
    Broken(BoxError),
}

impl ReadError {
    /// The AWS error for it: the service's own for a body over its limit (AWS's wording differs
    /// per service), `IncompleteBody` for a connection that broke mid-body.
    pub fn into_aws(self, too_large: impl FnOnce() -> crate::AwsError) -> crate::AwsError {
        match self {
            ReadError::TooLarge => too_large(),
            ReadError::Broken(e) => crate::AwsError::new(
                "IncompleteBody",
                400,
                format!("Could not read the request body: {e}"),
            ),
        }
    }
}

/// Reads a whole body, refusing more than `limit` bytes. Only for bodies AWS itself bounds.
pub async fn collect_limited(mut body: Body, limit: usize) -> Result<Bytes, ReadError> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ReadError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ReadError::TooLarge);
            }
            if buf.is_empty() && body.is_end_stream() {
                return Ok(data);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// A request body that records whether it was read to the end.
///
/// A service may answer before reading the body (an error found from the head alone). Bytes the
/// client sends anyway — after its `Expect: 100-continue` wait times out — would otherwise be
/// parsed as the next request on a kept-alive connection; the gateway closes such connections.
pub struct Tracked<B = Body> {
    inner: B,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<B: http_body::Body> Tracked<B> {
    /// Wraps `inner`; the flag turns true once the body has been read to its end.
    ///
    /// Generic so that hyper's body is wrapped as it is and boxed once, not twice.
    pub fn new(inner: B) -> (Self, std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(inner.is_end_stream()));
        (
            Self {
                inner,
                done: done.clone(),
            },
            done,
        )
    }
}

impl<B> http_body::Body for Tracked<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, std::task::Poll::Ready(None)) || self.inner.is_end_stream() {
            self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        polled.map(|f| f.map(|r| r.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body::Body as _;

    #[test]
    fn empty_is_an_ended_body_of_length_zero() {
        let (a, b) = (super::empty(), super::full(bytes::Bytes::new()));
        assert!(a.is_end_stream() && b.is_end_stream());
        assert_eq!(a.size_hint().exact(), Some(0));
        assert_eq!(b.size_hint().exact(), Some(0));
    }
}
