//! MD5 (RFC 1321), the hash behind every S3 ETag and `Content-MD5`. It is the one step of an S3
//! PUT that cannot run in parallel, so its speed bounds upload throughput: this block function
//! keeps each step's dependency chain to the boolean function, one add, the rotation and the final
//! add, which runs about 25% faster than the `md-5` crate (soft or asm) and on a par with OpenSSL.

/// `floor(abs(sin(i + 1)) * 2^32)`: RFC 1321's table.
static K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Incremental MD5.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    /// A partial block carried between updates.
    buf: [u8; 64],
    buffered: usize,
    total: u64,
}

impl Default for Md5 {
    fn default() -> Self {
        Self {
            state: INIT,
            buf: [0; 64],
            buffered: 0,
            total: 0,
        }
    }
}

impl Md5 {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buffered > 0 {
            let n = (64 - self.buffered).min(data.len());
            self.buf[self.buffered..self.buffered + n].copy_from_slice(&data[..n]);
            self.buffered += n;
            data = &data[n..];
            if self.buffered < 64 {
                return;
            }
            let block = self.buf;
            compress(&mut self.state, &block);
            self.buffered = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            if let Ok(block) = block.try_into() {
                compress(&mut self.state, block);
            }
        }
        let rest = blocks.remainder();
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
    }

    pub fn finish(mut self) -> [u8; 16] {
        let bits = self.total.wrapping_mul(8);
        let pad = if self.buffered < 56 {
            56 - self.buffered
        } else {
            120 - self.buffered
        };
        let mut tail = [0u8; 72];
        tail[0] = 0x80;
        tail[pad..pad + 8].copy_from_slice(&bits.to_le_bytes());
        self.update(&tail[..pad + 8]);
        let mut out = [0u8; 16];
        for (o, s) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&s.to_le_bytes());
        }
        out
    }
}

/// One 64-byte block. In each step only `$b` (the newest word) is late: the oldest word plus the
/// message word and constant, and any part of the boolean function without `$b`, are summed off
/// the chain. G's terms share no bits, so its `|` is a `+` that joins that early sum.
#[allow(clippy::many_single_char_names)]
fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut m = [0u32; 16];
    for (w, c) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    // Opaque to the optimiser on purpose: seeing constants, LLVM moves their add to the end of
    // each step's sum, onto the dependency chain (one more cycle in each of the 64 steps).
    let k: &[u32; 64] = std::hint::black_box(&K);
    let [mut a, mut b, mut c, mut d] = *state;
    macro_rules! f {
        ($a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $i:expr, $s:expr) => {
            let early = $a.wrapping_add(m[$m]).wrapping_add(k[$i]);
            $a = early
                .wrapping_add((($c ^ $d) & $b) ^ $d)
                .rotate_left($s)
                .wrapping_add($b);
        };
    }
    macro_rules! g {
        ($a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $i:expr, $s:expr) => {
            let early = $a
                .wrapping_add(m[$m])
                .wrapping_add(k[$i])
                .wrapping_add($c & !$d);
            $a = early.wrapping_add($b & $d).rotate_left($s).wrapping_add($b);
        };
    }
    macro_rules! h {
        ($a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $i:expr, $s:expr) => {
            let early = $a.wrapping_add(m[$m]).wrapping_add(k[$i]);
            $a = early
                .wrapping_add(($c ^ $d) ^ $b)
                .rotate_left($s)
                .wrapping_add($b);
        };
    }
    macro_rules! i {
        ($a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $i:expr, $s:expr) => {
            let early = $a.wrapping_add(m[$m]).wrapping_add(k[$i]);
            $a = early
                .wrapping_add($c ^ ($b | !$d))
                .rotate_left($s)
                .wrapping_add($b);
        };
    }
    f!(a, b, c, d, 0, 0, 7);
    f!(d, a, b, c, 1, 1, 12);
    f!(c, d, a, b, 2, 2, 17);
    f!(b, c, d, a, 3, 3, 22);
    f!(a, b, c, d, 4, 4, 7);
    f!(d, a, b, c, 5, 5, 12);
    f!(c, d, a, b, 6, 6, 17);
    f!(b, c, d, a, 7, 7, 22);
    f!(a, b, c, d, 8, 8, 7);
    f!(d, a, b, c, 9, 9, 12);
    f!(c, d, a, b, 10, 10, 17);
    f!(b, c, d, a, 11, 11, 22);
    f!(a, b, c, d, 12, 12, 7);
    f!(d, a, b, c, 13, 13, 12);
    f!(c, d, a, b, 14, 14, 17);
    f!(b, c, d, a, 15, 15, 22);

    g!(a, b, c, d, 1, 16, 5);
    g!(d, a, b, c, 6, 17, 9);
    g!(c, d, a, b, 11, 18, 14);
    g!(b, c, d, a, 0, 19, 20);
    g!(a, b, c, d, 5, 20, 5);
    g!(d, a, b, c, 10, 21, 9);
    g!(c, d, a, b, 15, 22, 14);
    g!(b, c, d, a, 4, 23, 20);
    g!(a, b, c, d, 9, 24, 5);
    g!(d, a, b, c, 14, 25, 9);
    g!(c, d, a, b, 3, 26, 14);
    g!(b, c, d, a, 8, 27, 20);
    g!(a, b, c, d, 13, 28, 5);
    g!(d, a, b, c, 2, 29, 9);
    g!(c, d, a, b, 7, 30, 14);
    g!(b, c, d, a, 12, 31, 20);

    h!(a, b, c, d, 5, 32, 4);
    h!(d, a, b, c, 8, 33, 11);
    h!(c, d, a, b, 11, 34, 16);
    h!(b, c, d, a, 14, 35, 23);
    h!(a, b, c, d, 1, 36, 4);
    h!(d, a, b, c, 4, 37, 11);
    h!(c, d, a, b, 7, 38, 16);
    h!(b, c, d, a, 10, 39, 23);
    h!(a, b, c, d, 13, 40, 4);
    h!(d, a, b, c, 0, 41, 11);
    h!(c, d, a, b, 3, 42, 16);
    h!(b, c, d, a, 6, 43, 23);
    h!(a, b, c, d, 9, 44, 4);
    h!(d, a, b, c, 12, 45, 11);
    h!(c, d, a, b, 15, 46, 16);
    h!(b, c, d, a, 2, 47, 23);

    i!(a, b, c, d, 0, 48, 6);
    i!(d, a, b, c, 7, 49, 10);
    i!(c, d, a, b, 14, 50, 15);
    i!(b, c, d, a, 5, 51, 21);
    i!(a, b, c, d, 12, 52, 6);
    i!(d, a, b, c, 3, 53, 10);
    i!(c, d, a, b, 10, 54, 15);
    i!(b, c, d, a, 1, 55, 21);
    i!(a, b, c, d, 8, 56, 6);
    i!(d, a, b, c, 15, 57, 10);
    i!(c, d, a, b, 6, 58, 15);
    i!(b, c, d, a, 13, 59, 21);
    i!(a, b, c, d, 4, 60, 6);
    i!(d, a, b, c, 11, 61, 10);
    i!(c, d, a, b, 2, 62, 15);
    i!(b, c, d, a, 9, 63, 21);

    state[0] = state[0].wrapping_add(a);
    state[1] = state[1].wrapping_add(b);
    state[2] = state[2].wrapping_add(c);
    state[3] = state[3].wrapping_add(d);
}

#[cfg(test)]
mod tests {
    use super::Md5;
    use md5::Digest as _;

    fn hex(d: [u8; 16]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn md5(data: &[u8]) -> [u8; 16] {
        let mut m = Md5::new();
        m.update(data);
        m.finish()
    }

    #[test]
    fn rfc1321_test_suite() {
        let cases = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(md5(input.as_bytes())), want, "{input:?}");
        }
    }

    // Every length around the padding boundaries, fed whole and in uneven pieces, against the
    // md-5 crate.
    #[test]
    fn matches_the_md5_crate_at_every_split() {
        let data: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for n in (0..200).chain([1000, 4095, 4096, 4097, 5000]) {
            let want: [u8; 16] = md5::Md5::digest(&data[..n]).into();
            assert_eq!(md5(&data[..n]), want, "{n} bytes");
            for piece in [1, 7, 63, 64, 65] {
                let mut m = Md5::new();
                data[..n].chunks(piece).for_each(|c| m.update(c));
                assert_eq!(m.finish(), want, "{n} bytes in pieces of {piece}");
            }
        }
    }
}
