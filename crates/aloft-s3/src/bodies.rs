//! Object bodies: where they live (memory or a blob file), how they stream in (hashed on the
//! way, spilled to disk past a threshold) and how they stream out (ranges, multipart pieces).
//!
//! Blobs are named by random ids, never by object keys, so no key (`../../etc/passwd`) can
//! address a file outside the blob directory.

use std::io::{Seek, SeekFrom};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use aloft_core::AwsError;
use aloft_core::body::{Body, BoxError};
use aloft_sigv4::checksums::Md5;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::checksums::{Algo, Hasher};
use crate::error::{S3Error, internal};

/// Where an object's (or part's) bytes are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Data {
    /// Small bodies in the default ephemeral mode.
    Inline(#[serde(with = "b64")] Bytes),
    /// A blob file, by id.
    Blob(Arc<str>),
    /// A completed multipart upload: its parts, in order, never copied.
    Parts(Arc<[Piece]>),
}

/// One piece of a multipart object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Piece {
    pub data: Data,
    pub size: u64,
}

impl Data {
    pub fn empty() -> Self {
        Data::Inline(Bytes::new())
    }

    /// Blob ids this body owns (to delete them when the object goes).
    pub fn blob_ids(&self, out: &mut Vec<Arc<str>>) {
        match self {
            Data::Inline(_) => {}
            Data::Blob(id) => out.push(id.clone()),
            Data::Parts(p) => p.iter().for_each(|p| p.data.blob_ids(out)),
        }
    }
}

mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(s)
            .map(Bytes::from)
            .map_err(serde::de::Error::custom)
    }
}

/// In the ephemeral mode bodies up to this size stay in memory; larger ones spill to disk so
/// that memory stays bounded however much is uploaded.
const INLINE_MAX: usize = 256 * 1024;

/// The blob directory and the spill policy.
pub struct BodyStore {
    dir: PathBuf,
    durable: bool,
    /// Bodies up to this size stay in memory (ephemeral mode only).
    inline_max: usize,
}

impl BodyStore {
    pub fn new(dir: PathBuf, durable: bool) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            durable,
            inline_max: if durable { 0 } else { INLINE_MAX },
        })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Deletes blob files no longer referenced (after the metadata change is committed).
    pub fn remove(&self, ids: &[Arc<str>]) {
        for id in ids {
            if let Err(e) = std::fs::remove_file(self.path(id))
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("could not remove blob {id}: {e}");
            }
        }
    }

    /// At start: removes unfinished temp files and blobs no committed metadata names.
    pub fn collect_orphans(&self, live: &std::collections::HashSet<String>) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in rd.filter_map(Result::ok) {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            if !live.contains(&name) && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Copies `data[range]` into a new body (CopyObject, UploadPartCopy).
    pub async fn copy(
        &self,
        data: &Data,
        start: u64,
        len: u64,
        algo: Option<Algo>,
    ) -> Result<Ingested, AwsError> {
        let mut ing = Ingest::new(self, algo, None);
        ing.expected = Some(len);
        let mut stream = self.reader(data, start, len);
        use futures_util::StreamExt;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    ing.abort().await;
                    return Err(internal(e));
                }
            };
            ing.push(chunk).await?;
        }
        ing.finish().await
    }

    /// Reads a body from the client, hashing as it goes and undoing aws-chunked framing.
    pub async fn ingest(&self, mut body: Body, opts: IngestOptions) -> Result<Ingested, AwsError> {
        let mut ing = Ingest::new(self, opts.algo, opts.content_sha256);
        // The payload's length when the request declares it (Content-Length, or
        // x-amz-decoded-content-length under aws-chunked): a spilled body's file is allocated
        // up front instead of page by page.
        ing.expected = match opts.chunked {
            Some((_, decoded)) => decoded,
            None => http_body::Body::size_hint(&body).exact(),
        }
        .filter(|&n| n <= opts.max);
        let mut decoder = opts
            .chunked
            .map(|(mode, len)| aloft_sigv4::ChunkedDecoder::new(mode, len, opts.verify.clone()));
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    ing.abort().await;
                    return Err(S3Error::IncompleteBody
                        .msg(format!("The request body terminated unexpectedly: {e}")));
                }
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let mut at = 0;
            while at < data.len() {
                // Payload is a slice of the frame: no copy on the way to the hashing threads.
                let (payload, consumed) = match decoder.as_mut() {
                    None => (data.slice(at..), data.len() - at),
                    Some(d) => match d.decode(&data[at..]) {
                        Ok(step) => (
                            data.slice(at + step.payload.start..at + step.payload.end),
                            step.consumed,
                        ),
                        Err(e) => {
                            ing.abort().await;
                            return Err(chunked_error(&e));
                        }
                    },
                };
                if ing.size + payload.len() as u64 > opts.max {
                    let proposed = ing.size + payload.len() as u64;
                    ing.abort().await;
                    return Err(S3Error::EntityTooLarge
                        .err()
                        .with_field("ProposedSize", proposed.to_string())
                        .with_field("MaxSizeAllowed", opts.max.to_string()));
                }
                if !payload.is_empty() {
                    ing.push(payload).await?;
                }
                at += consumed;
            }
        }
        let trailers = match decoder {
            None => None,
            Some(d) => match d.finish() {
                Ok(t) => Some(t),
                Err(e) => {
                    ing.abort().await;
                    return Err(chunked_error(&e));
                }
            },
        };
        let mut out = ing.finish().await?;
        out.trailer_checksum = trailers.and_then(|t| {
            t.checksum()
                .map(|(a, v)| (Algo::from_sig(a), v.to_string()))
        });
        Ok(out)
    }

    /// A stream of `len` bytes of `data` from `start`.
    pub fn reader(&self, data: &Data, start: u64, len: u64) -> BodyReader {
        let mut segs = Vec::new();
        flatten(data, start, len, &mut segs);
        BodyReader {
            dir: self.dir.clone(),
            segs: segs.into_iter().collect(),
            file: None,
            left_in_file: 0,
            pending: None,
        }
    }

    /// The whole body as one response body (in memory when it is, streamed otherwise).
    pub fn body(&self, data: &Data, start: u64, len: u64) -> Body {
        if let Data::Inline(b) = data {
            let s = start as usize;
            return match b.get(s..s.saturating_add(len as usize)) {
                Some(_) => aloft_core::body::full(b.slice(s..s + len as usize)),
                None => aloft_core::body::stream(futures_util::stream::once(async {
                    Err::<Bytes, BoxError>("stored body is shorter than its metadata".into())
                })),
            };
        }
        aloft_core::body::stream(self.reader(data, start, len))
    }
}

pub fn md5(data: &[u8]) -> [u8; 16] {
    aloft_sigv4::checksums::md5(data)
}

/// How to read a body.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The checksum to compute (the client's, or S3's default CRC64NVME).
    pub algo: Option<Algo>,
    /// `x-amz-content-sha256` when it is a hash of the payload.
    pub content_sha256: Option<[u8; 32]>,
    /// aws-chunked framing and `x-amz-decoded-content-length`.
    pub chunked: Option<(aloft_sigv4::ChunkedMode, Option<u64>)>,
    /// Under `--verify-signatures`: the seed signature's context, so every chunk's chained
    /// signature is checked (`None`: parsed, not checked).
    pub verify: Option<aloft_sigv4::StreamingContext>,
    pub max: u64,
}

fn chunked_error(e: &aloft_sigv4::ChunkedError) -> AwsError {
    let mut err = AwsError::new(e.code(), e.status(), e.message());
    for (k, v) in e.fields() {
        err = err.with_field(k, v);
    }
    err
}

/// What an ingested body came to.
#[derive(Debug)]
pub struct Ingested {
    pub data: Data,
    pub size: u64,
    pub md5: [u8; 16],
    /// The checksum of the requested algorithm, base64.
    pub checksum: Option<(Algo, String)>,
    /// The checksum the client sent in an aws-chunked trailer.
    pub trailer_checksum: Option<(Algo, String)>,
}

impl Ingested {
    pub fn etag(&self) -> String {
        // `hex::encode` collects `char`s one by one: ten times the work for 32 digits.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, b) in self.md5.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 15)];
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    pub fn md5_b64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.md5)
    }
}

/// Spilled bodies travel to the hashing and writing threads in batches of about this many bytes
/// (the frames as received, never copied), so each thread wakes once per batch, not per frame.
const BATCH: usize = 1024 * 1024;
/// Batches queued per thread: about 5 ms of MD5 work, so that the MD5 thread does not run dry
/// while the receiving task waits for a core. With the batch being filled and the one each
/// thread works on, at most about `(DEPTH + 3) * BATCH` bytes of a body are in memory (10
/// concurrent part uploads: about 60 MiB of batches, on top of hyper's read buffers).
const DEPTH: usize = 3;
/// The writer hashes and writes this much at a time, so the bytes its checksum pass just read
/// are still in the core's cache when the write copies them into the page cache.
const WRITE_GROUP: usize = 256 * 1024;

/// Frames handed on together, shared by both threads.
type Frames = Arc<Vec<Bytes>>;

/// The digests other than MD5: the requested flexible checksum and the `x-amz-content-sha256`
/// check. They run beside the file writes, off the MD5 thread.
struct Others {
    hasher: Option<(Algo, Hasher)>,
    sha256: Option<([u8; 32], sha2::Sha256)>,
}

impl Others {
    fn update(&mut self, data: &[u8]) {
        if let Some((_, h)) = &mut self.hasher {
            h.update(data);
        }
        if let Some((_, h)) = &mut self.sha256 {
            h.update(data);
        }
    }
}

/// How often a pipeline stage waited: whether the MD5 thread (which bounds a PUT's speed) ever
/// ran dry, and which thread the receiving task waited for. Logged at debug level.
#[derive(Debug, Default)]
struct Waits {
    md5_idle: u32,
    md5_full: u32,
    write_full: u32,
    batches: u32,
}

/// A body too big for memory on its way to disk. MD5 (the ETag) is inherently serial and the
/// slowest step, so it gets a thread of its own; receiving (this task), the other digests and the
/// file writes (a second thread) run beside it instead of in turn.
struct Spill {
    id: String,
    /// The frames not yet handed on.
    pending: Vec<Bytes>,
    pending_len: usize,
    /// The size the file was allocated for, if known.
    allocated: Option<u64>,
    waits: Waits,
    md5_tx: tokio::sync::mpsc::Sender<Frames>,
    write_tx: tokio::sync::mpsc::Sender<Frames>,
    md5_task: tokio::task::JoinHandle<(Md5, u32)>,
    write_task: tokio::task::JoinHandle<std::io::Result<(std::fs::File, Others)>>,
}

impl Spill {
    fn start(store: &BodyStore, others: Others, expected: Option<u64>) -> Result<Self, AwsError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut file = std::fs::File::create(store.path(&format!("{id}.tmp"))).map_err(internal)?;
        let allocated = expected.filter(|&n| n > 0 && allocate(&file, n));
        let (md5_tx, mut md5_rx) = tokio::sync::mpsc::channel::<Frames>(DEPTH);
        let (write_tx, mut write_rx) = tokio::sync::mpsc::channel::<Frames>(DEPTH);
        // Hashed batches go to the writer to be freed there: freeing can return memory to the
        // kernel (munmap, madvise), which must not cost the MD5 thread's core.
        let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Frames>();
        let md5_task = tokio::task::spawn_blocking(move || {
            let mut md5 = Md5::new();
            let mut idle: u32 = 0;
            loop {
                let frames = match md5_rx.try_recv() {
                    Ok(f) => f,
                    Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => break,
                    // Waiting for the end of the body is not running dry.
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                        match md5_rx.blocking_recv() {
                            Some(f) => {
                                idle += 1;
                                f
                            }
                            None => break,
                        }
                    }
                };
                frames.iter().for_each(|f| md5.update(f));
                let _ = spent_tx.send(frames);
            }
            (md5, idle)
        });
        let write_task = tokio::task::spawn_blocking(move || {
            let mut others = others;
            while let Some(frames) = write_rx.blocking_recv() {
                write_batch(&mut file, &frames, &mut others)?;
                drop(frames);
                while spent_rx.try_recv().is_ok() {}
            }
            Ok((file, others))
        });
        Ok(Self {
            id,
            pending: Vec::new(),
            pending_len: 0,
            allocated,
            waits: Waits::default(),
            md5_tx,
            write_tx,
            md5_task,
            write_task,
        })
    }

    fn tmp(&self, store: &BodyStore) -> PathBuf {
        store.path(&format!("{}.tmp", self.id))
    }

    async fn push(&mut self, data: Bytes) -> Result<(), AwsError> {
        self.pending_len += data.len();
        self.pending.push(data);
        if self.pending_len >= BATCH {
            self.hand_on()
                .await
                .map_err(|()| internal("body writer stopped"))?;
        }
        Ok(())
    }

    /// Sends the pending frames to both threads (waiting while their queues are full: that is
    /// what bounds memory). An error means a thread stopped: [`Self::join`] says why.
    async fn hand_on(&mut self) -> Result<(), ()> {
        use tokio::sync::mpsc::error::TrySendError;
        if self.pending.is_empty() {
            return Ok(());
        }
        self.pending_len = 0;
        self.waits.batches += 1;
        let frames = Arc::new(std::mem::take(&mut self.pending));
        match self.md5_tx.try_send(frames.clone()) {
            Ok(()) => {}
            Err(TrySendError::Closed(_)) => return Err(()),
            Err(TrySendError::Full(f)) => {
                self.waits.md5_full += 1;
                self.md5_tx.send(f).await.map_err(drop)?;
            }
        }
        match self.write_tx.try_send(frames) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(_)) => Err(()),
            Err(TrySendError::Full(f)) => {
                self.waits.write_full += 1;
                self.write_tx.send(f).await.map_err(drop)
            }
        }
    }

    /// Waits for both threads to drain their queues.
    async fn join(self) -> Result<(String, std::fs::File, Md5, Others), AwsError> {
        let Self {
            id,
            md5_tx,
            write_tx,
            md5_task,
            write_task,
            allocated,
            mut waits,
            ..
        } = self;
        drop((md5_tx, write_tx));
        let written = write_task.await.map_err(internal)?;
        let (md5, idle) = md5_task.await.map_err(internal)?;
        waits.md5_idle = idle;
        tracing::debug!(?waits, ?allocated, "spilled body");
        let (file, others) = written.map_err(internal)?;
        Ok((id, file, md5, others))
    }
}

/// Allocates the file's blocks up front, so that each page written is not reserved and
/// accounted one at a time (ext4's delayed allocation); best effort (not every file system
/// can). The caller trims the file if fewer bytes arrive.
#[cfg(target_os = "linux")]
fn allocate(file: &std::fs::File, len: u64) -> bool {
    use nix::fcntl::{FallocateFlags, fallocate};
    i64::try_from(len).is_ok_and(|n| fallocate(file, FallocateFlags::empty(), 0, n).is_ok())
}

#[cfg(not(target_os = "linux"))]
fn allocate(_: &std::fs::File, _: u64) -> bool {
    false
}

/// Hashes and writes one batch, a cache-sized group of frames per `writev`.
fn write_batch(
    file: &mut std::fs::File,
    frames: &[Bytes],
    others: &mut Others,
) -> std::io::Result<()> {
    let mut start = 0;
    while start < frames.len() {
        let mut end = start;
        let mut len = 0;
        while end < frames.len() && (end == start || len < WRITE_GROUP) {
            others.update(&frames[end]);
            len += frames[end].len();
            end += 1;
        }
        write_all_vectored(file, &frames[start..end])?;
        start = end;
    }
    Ok(())
}

fn write_all_vectored(file: &mut std::fs::File, frames: &[Bytes]) -> std::io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice<'_>> = frames.iter().map(|f| IoSlice::new(f)).collect();
    let mut bufs = &mut slices[..];
    while !bufs.is_empty() {
        match file.write_vectored(bufs) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A body being received.
struct Ingest<'a> {
    store: &'a BodyStore,
    size: u64,
    /// The body while it may still stay in memory (hashed at the end).
    buf: BytesMut,
    /// Until the body spills (then they travel with it).
    md5: Md5,
    others: Option<Others>,
    spill: Option<Spill>,
    /// The body's declared size, if known (to allocate its file when it spills).
    expected: Option<u64>,
}

impl<'a> Ingest<'a> {
    fn new(store: &'a BodyStore, algo: Option<Algo>, sha: Option<[u8; 32]>) -> Self {
        Self {
            store,
            size: 0,
            buf: BytesMut::new(),
            md5: Md5::new(),
            others: Some(Others {
                hasher: algo.map(|a| (a, Hasher::new(a))),
                sha256: sha.map(|s| (s, sha2::Sha256::new())),
            }),
            spill: None,
            expected: None,
        }
    }

    async fn push(&mut self, data: Bytes) -> Result<(), AwsError> {
        self.size += data.len() as u64;
        if self.spill.is_none() {
            if self.buf.len() + data.len() <= self.store.inline_max {
                // Copied: a slice of the connection's read buffer would pin all of it.
                self.buf.extend_from_slice(&data);
                return Ok(());
            }
            let others = self
                .others
                .take()
                .ok_or_else(|| internal("body hashes lost"))?;
            let mut spill = Spill::start(self.store, others, self.expected)?;
            if !self.buf.is_empty() {
                spill.pending_len = self.buf.len();
                spill.pending.push(self.buf.split().freeze());
            }
            self.spill = Some(spill);
        }
        let Some(spill) = self.spill.as_mut() else {
            return Err(internal("body writer state lost"));
        };
        if let Err(e) = spill.push(data).await {
            return Err(self.fail(e).await);
        }
        Ok(())
    }

    /// After a thread stopped: its error, with the temp file removed.
    async fn fail(&mut self, e: AwsError) -> AwsError {
        let Some(spill) = self.spill.take() else {
            return e;
        };
        let tmp = spill.tmp(self.store);
        let err = match spill.join().await {
            Err(why) => why,
            Ok(_) => e,
        };
        let _ = std::fs::remove_file(tmp);
        err
    }

    async fn abort(mut self) {
        if let Some(spill) = self.spill.take() {
            let tmp = spill.tmp(self.store);
            let _ = spill.join().await;
            let _ = tokio::fs::remove_file(tmp).await;
        }
    }

    async fn finish(mut self) -> Result<Ingested, AwsError> {
        let (md5, others, file) = match self.spill.take() {
            None => {
                let mut others = self
                    .others
                    .take()
                    .ok_or_else(|| internal("body hashes lost"))?;
                self.md5.update(&self.buf);
                others.update(&self.buf);
                (std::mem::take(&mut self.md5), others, None)
            }
            Some(mut spill) => {
                let tmp = spill.tmp(self.store);
                let allocated = spill.allocated;
                let joined = match spill.hand_on().await {
                    Ok(()) => spill.join().await,
                    Err(()) => match spill.join().await {
                        Ok(_) => Err(internal("body writer stopped")),
                        Err(e) => Err(e),
                    },
                };
                // A declared size is a promise the framing checks, but the file must never
                // claim bytes that did not arrive.
                let joined = joined.and_then(|(id, f, md5, others)| {
                    if allocated.is_some_and(|n| n != self.size) {
                        f.set_len(self.size).map_err(internal)?;
                    }
                    Ok((id, f, md5, others))
                });
                match joined {
                    Ok((id, f, md5, others)) => (md5, others, Some((f, id))),
                    Err(e) => {
                        let _ = std::fs::remove_file(tmp);
                        return Err(e);
                    }
                }
            }
        };
        let Others { hasher, sha256 } = others;
        if let Some((expected, h)) = sha256 {
            let got: [u8; 32] = h.finalize().into();
            if got != expected {
                if let Some((f, id)) = file {
                    drop(f);
                    let _ = tokio::fs::remove_file(self.store.path(&format!("{id}.tmp"))).await;
                }
                return Err(S3Error::XAmzContentSHA256Mismatch
                    .err()
                    .with_field("ClientComputedContentSHA256", hex::encode(expected))
                    .with_field("S3ComputedContentSHA256", hex::encode(got)));
            }
        }
        let data = match file {
            None => Data::Inline(self.buf.split().freeze()),
            Some((f, id)) => {
                let tmp = self.store.path(&format!("{id}.tmp"));
                let dest = self.store.path(&id);
                let (durable, dir) = (self.store.durable, self.store.dir.clone());
                // Durable: the file is synced before the rename, the directory after it.
                let done = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    if durable {
                        f.sync_all()?;
                    }
                    drop(f);
                    std::fs::rename(&tmp, &dest)?;
                    if durable {
                        std::fs::File::open(dir)?.sync_all()?;
                    }
                    Ok(())
                })
                .await
                .map_err(internal)?;
                if let Err(e) = done {
                    let _ = std::fs::remove_file(self.store.path(&format!("{id}.tmp")));
                    return Err(internal(e));
                }
                Data::Blob(id.into())
            }
        };
        Ok(Ingested {
            data,
            size: self.size,
            md5: md5.finish(),
            checksum: hasher.map(|(a, h)| (a, h.finish())),
            trailer_checksum: None,
        })
    }
}

/// A contiguous piece to read: in-memory bytes or a file range.
enum Seg {
    Mem(Bytes),
    File(Arc<str>, u64, u64),
}

fn flatten(data: &Data, start: u64, len: u64, out: &mut Vec<Seg>) {
    if len == 0 {
        return;
    }
    match data {
        Data::Inline(b) => {
            let s = (start as usize).min(b.len());
            let e = s.saturating_add(len as usize).min(b.len());
            out.push(Seg::Mem(b.slice(s..e)));
        }
        Data::Blob(id) => out.push(Seg::File(id.clone(), start, len)),
        Data::Parts(pieces) => {
            let (mut start, mut len) = (start, len);
            for p in pieces.iter() {
                if len == 0 {
                    break;
                }
                if start >= p.size {
                    start -= p.size;
                    continue;
                }
                let take = (p.size - start).min(len);
                flatten(&p.data, start, take, out);
                start = 0;
                len -= take;
            }
        }
    }
}

/// Streams segments, opening each file only when reached (a 10,000-part object holds one fd).
/// File reads run on the blocking pool straight into the chunk handed to the client.
pub struct BodyReader {
    dir: PathBuf,
    segs: std::collections::VecDeque<Seg>,
    file: Option<std::fs::File>,
    left_in_file: u64,
    pending: Option<PendingRead>,
}

/// A read on the blocking pool: it hands the file back with the bytes.
type PendingRead = tokio::task::JoinHandle<std::io::Result<(std::fs::File, Vec<u8>)>>;

const READ_CHUNK: u64 = 1024 * 1024;

impl futures_util::Stream for BodyReader {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        use std::future::Future;
        let this = &mut *self;
        loop {
            if let Some(h) = this.pending.as_mut() {
                let done = match Pin::new(h).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(r) => r,
                };
                this.pending = None;
                return match done {
                    Err(e) => Poll::Ready(Some(Err(e.into()))),
                    Ok(Err(e)) => Poll::Ready(Some(Err(e.into()))),
                    Ok(Ok((_, v))) if v.is_empty() => {
                        Poll::Ready(Some(Err("blob ended early".into())))
                    }
                    Ok(Ok((f, v))) => {
                        this.left_in_file -= v.len() as u64;
                        if this.left_in_file > 0 {
                            this.file = Some(f);
                        }
                        Poll::Ready(Some(Ok(Bytes::from(v))))
                    }
                };
            }
            if let Some(f) = this.file.take() {
                let n = this.left_in_file.min(READ_CHUNK);
                this.pending = Some(tokio::task::spawn_blocking(move || {
                    use std::io::Read;
                    let mut v = Vec::with_capacity(n as usize);
                    (&f).take(n).read_to_end(&mut v)?;
                    Ok((f, v))
                }));
                continue;
            }
            match this.segs.pop_front() {
                None => return Poll::Ready(None),
                Some(Seg::Mem(b)) => return Poll::Ready(Some(Ok(b))),
                Some(Seg::File(id, start, len)) => {
                    // Opening and seeking are single quick syscalls.
                    let opened = std::fs::File::open(this.dir.join(&*id)).and_then(|mut f| {
                        f.seek(SeekFrom::Start(start))?;
                        Ok(f)
                    });
                    match opened {
                        Ok(f) => {
                            this.file = (len > 0).then_some(f);
                            this.left_in_file = len;
                        }
                        Err(e) => return Poll::Ready(Some(Err(e.into()))),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn opts(algo: Option<Algo>, sha: Option<[u8; 32]>, max: u64) -> IngestOptions {
        IngestOptions {
            algo,
            content_sha256: sha,
            chunked: None,
            verify: None,
            max,
        }
    }

    #[tokio::test]
    async fn decodes_aws_chunked_with_a_trailer() {
        let (s, dir) = store(1024);
        let body = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        let o = IngestOptions {
            algo: Some(Algo::CRC32),
            content_sha256: None,
            chunked: Some((aloft_sigv4::ChunkedMode::Unsigned, Some(5))),
            verify: None,
            max: 100,
        };
        let got = s.ingest(aloft_core::body::full(body), o).await.unwrap();
        assert_eq!(read_all(&s, &got.data, 0, got.size).await, b"hello");
        assert_eq!(
            got.trailer_checksum.unwrap().1,
            crate::checksums::checksum(Algo::CRC32, b"hello")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    fn store(inline_max: usize) -> (BodyStore, PathBuf) {
        let dir = std::env::temp_dir().join(format!("aloft-s3-test-{}", uuid::Uuid::new_v4()));
        let mut s = BodyStore::new(dir.clone(), false).unwrap();
        s.inline_max = inline_max;
        (s, dir)
    }

    async fn read_all(s: &BodyStore, d: &Data, start: u64, len: u64) -> Vec<u8> {
        let mut r = s.reader(d, start, len);
        let mut out = Vec::new();
        while let Some(c) = r.next().await {
            out.extend_from_slice(&c.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn spills_and_reads_ranges_across_parts() {
        let (s, dir) = store(4);
        let a = s
            .ingest(
                aloft_core::body::full("hello world"),
                opts(Some(Algo::CRC32), None, 100),
            )
            .await
            .unwrap();
        assert!(matches!(a.data, Data::Blob(_)));
        assert_eq!(a.etag(), crate::checksums::md5_hex(b"hello world"));
        assert_eq!(
            a.checksum.as_ref().unwrap().1,
            crate::checksums::checksum(Algo::CRC32, b"hello world")
        );
        let b = s
            .ingest(aloft_core::body::full("abc"), opts(None, None, 100))
            .await
            .unwrap();
        assert!(matches!(b.data, Data::Inline(_)));
        let whole = Data::Parts(Arc::from(vec![
            Piece {
                data: a.data.clone(),
                size: 11,
            },
            Piece {
                data: b.data.clone(),
                size: 3,
            },
        ]));
        assert_eq!(read_all(&s, &whole, 0, 14).await, b"hello worldabc");
        assert_eq!(read_all(&s, &whole, 6, 6).await, b"worlda");
        assert_eq!(read_all(&s, &whole, 12, 2).await, b"bc");
        let c = s.copy(&whole, 3, 9, None).await.unwrap();
        assert_eq!(read_all(&s, &c.data, 0, c.size).await, b"lo worlda");
        let err = s
            .ingest(aloft_core::body::full("toolong"), opts(None, None, 3))
            .await
            .unwrap_err();
        assert_eq!(err.code, "EntityTooLarge");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_file_allocated_for_more_than_arrives_is_trimmed() {
        let (s, dir) = store(4);
        let mut ing = Ingest::new(&s, Some(Algo::CRC64NVME), None);
        ing.expected = Some(1 << 20);
        for piece in ["hello", " ", "world"] {
            ing.push(Bytes::from(piece)).await.unwrap();
        }
        let got = ing.finish().await.unwrap();
        let Data::Blob(id) = &got.data else {
            panic!("not spilled: {:?}", got.data)
        };
        assert_eq!(std::fs::metadata(s.path(id)).unwrap().len(), 11);
        assert_eq!(read_all(&s, &got.data, 0, 11).await, b"hello world");
        assert_eq!(got.etag(), crate::checksums::md5_hex(b"hello world"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn many_batches_hash_and_write_in_order() {
        let (s, dir) = store(4);
        // Odd-sized frames across several batches and write groups.
        let body: Vec<u8> = (0..3 * BATCH + 12345)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let frames: Vec<Result<Bytes, BoxError>> = body
            .chunks(70_001)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let got = s
            .ingest(
                aloft_core::body::stream(futures_util::stream::iter(frames)),
                opts(Some(Algo::CRC32C), None, u64::MAX),
            )
            .await
            .unwrap();
        assert_eq!(got.size, body.len() as u64);
        assert_eq!(got.etag(), crate::checksums::md5_hex(&body));
        assert_eq!(
            got.checksum.unwrap().1,
            crate::checksums::checksum(Algo::CRC32C, &body)
        );
        assert_eq!(read_all(&s, &got.data, 0, got.size).await, body);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn sha256_mismatch_is_refused() {
        let (s, dir) = store(1024);
        let err = s
            .ingest(aloft_core::body::full("x"), opts(None, Some([0; 32]), 100))
            .await
            .unwrap_err();
        assert_eq!(err.code, "XAmzContentSHA256Mismatch");
        let _ = std::fs::remove_dir_all(dir);
    }
}
