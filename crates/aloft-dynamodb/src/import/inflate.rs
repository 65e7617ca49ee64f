//! Decompression of a source object piece by piece: the compressed bytes come in as S3
//! ranges arrive, and the decompressed text leaves in chunks of at most a block, so neither
//! side of a large object is ever whole in memory.

use std::io::Write;

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::Compression;

/// The largest zstd block as stored (RFC 8878: 128 KiB of content) with its 3-byte header
/// and a frame's 4-byte checksum: with this much at hand (or the end of the object) a
/// block never has to be read twice.
const ZSTD_BLOCK: usize = 128 * 1024 + 3 + 4;
/// A zstd frame header is at most 18 bytes.
const ZSTD_HEADER: usize = 18;

/// Turns compressed pieces into decompressed chunks.
pub enum Inflate {
    Plain,
    /// `MultiGzDecoder`: `gzip a b > c` and parallel compressors write several members.
    /// Its writer is a scratch buffer emptied after every `write` (one `write` decodes at
    /// most its 32 KiB window of output).
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
    Zstd(Box<Zstd>),
}

/// A zstd stream of frames: `zstd` and parallel compressors may write several.
pub struct Zstd {
    decoder: FrameDecoder,
    in_frame: bool,
    /// Compressed bytes not yet decoded (at most a block more than one piece).
    pending: Vec<u8>,
}

impl Inflate {
    pub fn new(c: Compression) -> Inflate {
        match c {
            Compression::None => Inflate::Plain,
            Compression::Gzip => {
                Inflate::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Vec::new())))
            }
            Compression::Zstd => Inflate::Zstd(Box::new(Zstd {
                decoder: FrameDecoder::new(),
                in_frame: false,
                pending: Vec::new(),
            })),
        }
    }

    /// Decompresses the next piece of the object, handing each decompressed chunk to `out`.
    /// An error is for the whole rest of the object.
    pub fn push(&mut self, mut piece: &[u8], out: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        match self {
            Inflate::Plain => {
                out(piece);
                Ok(())
            }
            Inflate::Gzip(d) => {
                while !piece.is_empty() {
                    let n = d.write(piece).map_err(gzip_error)?;
                    if n == 0 {
                        return Err(gzip_error(std::io::ErrorKind::WriteZero.into()));
                    }
                    piece = &piece[n..];
                    drain(d.get_mut(), out);
                }
                Ok(())
            }
            Inflate::Zstd(z) => {
                z.pending.extend_from_slice(piece);
                z.run(false, out)
            }
        }
    }

    /// The end of the object: what is still buffered, and whether the stream ended whole.
    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        match self {
            Inflate::Plain => Ok(()),
            Inflate::Gzip(d) => {
                let r = d.try_finish().map_err(gzip_error);
                drain(d.get_mut(), out);
                r
            }
            Inflate::Zstd(z) => z.run(true, out),
        }
    }
}

fn drain(buf: &mut Vec<u8>, out: &mut dyn FnMut(&[u8])) {
    if !buf.is_empty() {
        out(buf);
        buf.clear();
    }
}

fn gzip_error(e: std::io::Error) -> String {
    format!("Unable to decompress GZIP object: {e}")
}

fn zstd_error(e: impl std::fmt::Display) -> String {
    format!("Unable to decompress ZSTD object: {e}")
}

impl Zstd {
    /// Decodes every block wholly at hand (all of them at the end of the object), one block
    /// at a time so that the output of one call stays within a block.
    fn run(&mut self, eof: bool, out: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        let mut pos = 0;
        let result = loop {
            let avail = self.pending.len() - pos;
            if !self.in_frame {
                if avail == 0 || (avail < ZSTD_HEADER && !eof) {
                    break Ok(());
                }
                let mut src = &self.pending[pos..];
                if let Err(e) = self.decoder.init(&mut src) {
                    break Err(zstd_error(e));
                }
                pos = self.pending.len() - src.len();
                self.in_frame = true;
                continue;
            }
            if self.decoder.is_finished() {
                while self.decoder.can_collect() > 0 {
                    match self.decoder.collect() {
                        Some(v) if !v.is_empty() => out(&v),
                        _ => break,
                    }
                }
                self.in_frame = false;
                continue;
            }
            if avail < ZSTD_BLOCK && !eof {
                break Ok(());
            }
            let mut src = &self.pending[pos..];
            if let Err(e) = self
                .decoder
                .decode_blocks(&mut src, BlockDecodingStrategy::UptoBlocks(1))
            {
                break Err(zstd_error(e));
            }
            pos = self.pending.len() - src.len();
            if let Some(v) = self.decoder.collect()
                && !v.is_empty()
            {
                out(&v);
            }
        };
        self.pending.drain(..pos);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::decompress;

    /// Decompresses `body` fed in pieces of `n` bytes.
    fn pieces(body: &[u8], c: Compression, n: usize) -> Result<Vec<u8>, String> {
        let mut inflate = Inflate::new(c);
        let mut text = Vec::new();
        for piece in body.chunks(n) {
            inflate.push(piece, &mut |b| text.extend_from_slice(b))?;
        }
        inflate.finish(&mut |b| text.extend_from_slice(b))?;
        Ok(text)
    }

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text).unwrap();
        enc.finish().unwrap()
    }

    /// `printf 'hello\n' | zstd -c`, written by the reference implementation.
    const ZSTD_HELLO: &[u8] = &[
        0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x31, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a,
        0x53, 0x88, 0xbd, 0x91,
    ];

    fn same_in_pieces(body: &[u8], c: Compression) {
        let whole = decompress(body, c);
        for n in [1, 7, 64, 100_000] {
            let streamed = pieces(body, c, n);
            match (&whole, &streamed) {
                (Ok(w), Ok(s)) => assert_eq!(w, s, "{c:?} in pieces of {n}"),
                // A gzip object cut short is one error either way, worded differently: the
                // writing decoder finds the checksum missing where the reading one finds
                // the deflate stream incomplete.
                (Err(w), Err(s)) if w.contains("incomplete deflate stream") => {
                    assert!(s.starts_with("Unable to decompress GZIP object"), "{s}");
                }
                (w, s) => assert_eq!(w, s, "{c:?} in pieces of {n}"),
            }
        }
    }

    #[test]
    fn gzip_members_garbage_and_truncation_match_the_whole_body() {
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i} é\n").into_bytes())
            .collect();
        let one = gzip(&text);
        let two = [one.clone(), gzip(b"second member\n")].concat();
        same_in_pieces(&one, Compression::Gzip);
        same_in_pieces(&two, Compression::Gzip);
        assert_eq!(
            pieces(&two, Compression::Gzip, 7).unwrap(),
            [text.as_slice(), b"second member\n"].concat()
        );
        same_in_pieces(b"plain text, not gzip", Compression::Gzip);
        same_in_pieces(&one[..one.len() / 2], Compression::Gzip);
        same_in_pieces(
            &[one.as_slice(), b"trailing junk"].concat(),
            Compression::Gzip,
        );
        assert!(pieces(&one[..one.len() - 3], Compression::Gzip, 7).is_err());
        assert!(pieces(b"plain", Compression::Gzip, 7).is_err());
    }

    #[test]
    fn zstd_frames_garbage_and_truncation_match_the_whole_body() {
        let two = [ZSTD_HELLO, ZSTD_HELLO].concat();
        same_in_pieces(ZSTD_HELLO, Compression::Zstd);
        same_in_pieces(&two, Compression::Zstd);
        assert_eq!(
            pieces(&two, Compression::Zstd, 1).unwrap(),
            b"hello\nhello\n"
        );
        same_in_pieces(b"", Compression::Zstd);
        // Several blocks (of up to 128 KiB each), split anywhere.
        let text: Vec<u8> = (0..40_000)
            .flat_map(|i| format!("row {i}\n").into_bytes())
            .collect();
        let z = ruzstd::encoding::compress_to_vec(
            &text[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        same_in_pieces(&z, Compression::Zstd);
        assert_eq!(pieces(&z, Compression::Zstd, 7).unwrap(), text);
        same_in_pieces(&z[..z.len() - 9], Compression::Zstd);
        same_in_pieces(b"plain text", Compression::Zstd);
        same_in_pieces(&ZSTD_HELLO[..10], Compression::Zstd);
        assert!(pieces(&ZSTD_HELLO[..10], Compression::Zstd, 3).is_err());
    }

    #[test]
    fn plain_passes_through() {
        assert_eq!(pieces(b"abc", Compression::None, 1).unwrap(), b"abc");
        same_in_pieces(b"", Compression::None);
    }
}
