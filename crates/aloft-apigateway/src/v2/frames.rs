//! WebSocket framing (RFC 6455), server side: the handshake key, reading masked client
//! frames into whole messages (fragments joined, control frames in between answered), and
//! writing unmasked frames.

use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt};

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
    /// The peer's close code and reason, if it sent them.
    Close(Option<u16>, String),
}

/// Why reading stopped short of a message: the close code to answer with.
#[derive(Debug, PartialEq, Eq)]
pub enum Broken {
    /// The connection ended (EOF or an I/O error): nothing to answer.
    Gone,
    /// 1002 protocol error, 1007 invalid UTF-8, 1009 too big.
    Protocol(u16),
}

pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;
pub const OP_PING: u8 = 9;
pub const OP_PONG: u8 = 10;

/// A final, unmasked frame.
pub fn encode(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode);
    let n = payload.len();
    if n < 126 {
        out.push(u8::try_from(n).unwrap_or(0));
    } else if let Ok(n) = u16::try_from(n) {
        out.push(126);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    encode(OP_CLOSE, &p)
}

async fn frame<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> Result<(bool, u8, Vec<u8>), Broken> {
    let mut head = [0u8; 2];
    r.read_exact(&mut head).await.map_err(|_| Broken::Gone)?;
    let fin = head[0] & 0x80 != 0;
    if head[0] & 0x70 != 0 {
        return Err(Broken::Protocol(1002));
    }
    let opcode = head[0] & 0x0f;
    let masked = head[1] & 0x80 != 0;
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).await.map_err(|_| Broken::Gone)?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            r.read_exact(&mut b).await.map_err(|_| Broken::Gone)?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    if opcode >= 8 && (len > 125 || !fin) {
        return Err(Broken::Protocol(1002));
    }
    let len = usize::try_from(len).map_err(|_| Broken::Protocol(1009))?;
    if len > max {
        return Err(Broken::Protocol(1009));
    }
    // Clients must mask every frame.
    if !masked {
        return Err(Broken::Protocol(1002));
    }
    let mut mask = [0u8; 4];
    r.read_exact(&mut mask).await.map_err(|_| Broken::Gone)?;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await.map_err(|_| Broken::Gone)?;
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    Ok((fin, opcode, payload))
}

/// Reads messages from one connection; a fragmented message survives control frames that
/// arrive between its fragments.
#[derive(Default)]
pub struct Reader {
    data: Vec<u8>,
    kind: Option<u8>,
}

impl Reader {
    /// Reads the next message, joining fragments; `max` bounds the whole message.
    pub async fn read<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        max: usize,
    ) -> Result<Message, Broken> {
        let Reader { data, kind } = self;
        loop {
            let (fin, opcode, payload) = frame(r, max).await?;
            match opcode {
                OP_CLOSE => {
                    let code =
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    let reason =
                        String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
                    return Ok(Message::Close(code, reason));
                }
                OP_PING => return Ok(Message::Ping(payload)),
                OP_PONG => return Ok(Message::Pong),
                OP_TEXT | OP_BINARY if kind.is_none() => *kind = Some(opcode),
                0 if kind.is_some() => {}
                _ => return Err(Broken::Protocol(1002)),
            }
            if data.len() + payload.len() > max {
                return Err(Broken::Protocol(1009));
            }
            data.extend_from_slice(&payload);
            if fin {
                let data = std::mem::take(data);
                return match kind.take() {
                    Some(OP_TEXT) => String::from_utf8(data)
                        .map(Message::Text)
                        .map_err(|_| Broken::Protocol(1007)),
                    _ => Ok(Message::Binary(data)),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut out = vec![first];
        if payload.len() < 126 {
            out.push(0x80 | payload.len() as u8);
        } else {
            out.push(0x80 | 126);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn accept_key_matches_the_rfc_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[tokio::test]
    async fn reads_messages_fragments_and_controls() {
        let mut wire = masked(0x81, b"hello");
        wire.extend(masked(0x01, b"frag"));
        wire.extend(masked(0x89, b"p"));
        wire.extend(masked(0x80, b"ment"));
        wire.extend(masked(0x82, &[0xff; 200]));
        wire.extend(masked(0x88, &[0x03, 0xe8, b'b', b'y', b'e']));
        let mut r = wire.as_slice();
        let mut rd = Reader::default();
        assert_eq!(
            rd.read(&mut r, 1024).await,
            Ok(Message::Text("hello".into()))
        );
        assert_eq!(
            rd.read(&mut r, 1024).await,
            Ok(Message::Ping(b"p".to_vec()))
        );
        assert_eq!(
            rd.read(&mut r, 1024).await,
            Ok(Message::Text("fragment".into()))
        );
        assert_eq!(
            rd.read(&mut r, 1024).await,
            Ok(Message::Binary(vec![0xff; 200]))
        );
        assert_eq!(
            rd.read(&mut r, 1024).await,
            Ok(Message::Close(Some(1000), "bye".into()))
        );
        assert_eq!(rd.read(&mut r, 1024).await, Err(Broken::Gone));
    }

    #[tokio::test]
    async fn refuses_bad_frames() {
        let big = masked(0x81, &[b'a'; 300]);
        assert_eq!(
            Reader::default().read(&mut big.as_slice(), 100).await,
            Err(Broken::Protocol(1009))
        );
        let unmasked = [0x81u8, 1, b'a'];
        assert_eq!(
            Reader::default().read(&mut unmasked.as_slice(), 100).await,
            Err(Broken::Protocol(1002))
        );
        let bad_utf8 = masked(0x81, &[0xff, 0xfe]);
        assert_eq!(
            Reader::default().read(&mut bad_utf8.as_slice(), 100).await,
            Err(Broken::Protocol(1007))
        );
        assert_eq!(encode(OP_TEXT, b"hi"), vec![0x81, 2, b'h', b'i']);
        assert_eq!(&encode(OP_BINARY, &[0; 300])[..4], &[0x82, 126, 1, 44]);
    }
}
