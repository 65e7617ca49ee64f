//! The canonical request: URI (S3 takes the wire path verbatim, every other service normalizes it
//! and encodes it once more, i.e. twice in all), sorted and re-encoded query, and the signed
//! headers with trimmed, space-collapsed values.

/// A request as SigV4 sees it, with nothing of the HTTP server in it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as received on the wire (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?` (empty if none).
    pub query: &'a str,
    /// Every header, names in any case; repeated names in the order received. With `http`:
    /// `parts.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())).collect::<Vec<_>>()`.
    pub headers: &'a [(&'a str, &'a [u8])],
}

impl<'a> Request<'a> {
    /// Values of a header, in order, matched case-insensitively.
    pub fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The first value of a header, if it is UTF-8.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name)
            .next()
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// How the canonical URI is formed from the wire path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriMode {
    /// Remove `.`/`..` segments and empty segments (consecutive slashes).
    pub normalize: bool,
    /// URI-encode the (already encoded) wire path once more.
    pub double_encode: bool,
}

impl UriMode {
    /// S3: the wire path as sent, untouched.
    pub const S3: Self = Self {
        normalize: false,
        double_encode: false,
    };
    /// Every other service.
    pub const DEFAULT: Self = Self {
        normalize: true,
        double_encode: true,
    };

    /// The mode for a signing name (`s3` and `s3-object-lambda` are S3's).
    pub fn for_service(service: &str) -> Self {
        if service == "s3" || service == "s3-object-lambda" || service == "s3express" {
            Self::S3
        } else {
            Self::DEFAULT
        }
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// AWS's `UriEncode`: everything but `A-Za-z0-9-_.~` as `%XX` (upper-case hex); `/` kept when
/// `keep_slash`.
pub fn uri_encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// [`uri_encode_into`] into a new string.
pub fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut s = String::with_capacity(bytes.len());
    uri_encode_into(&mut s, bytes, keep_slash);
    s
}

fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut s = String::with_capacity(path.len());
    if path.starts_with('/') {
        s.push('/');
    }
    s.push_str(&out.join("/"));
    if path.ends_with('/') && !out.is_empty() {
        s.push('/');
    }
    s
}

/// The canonical URI of a wire path.
pub fn canonical_uri(raw_path: &str, mode: UriMode) -> String {
    let path = if raw_path.is_empty() { "/" } else { raw_path };
    let path = if mode.normalize {
        let p = remove_dot_segments(path);
        if p.is_empty() { "/".to_string() } else { p }
    } else {
        path.to_string()
    };
    if mode.double_encode {
        uri_encode(path.as_bytes(), true)
    } else {
        path
    }
}

/// The canonical query string: each name and value decoded and re-encoded with `UriEncode`,
/// sorted by name then value. `X-Amz-Signature` is left out when `presigned`.
pub fn canonical_query(raw_query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            if presigned && k == "X-Amz-Signature" {
                return None;
            }
            let dec = |s: &str| percent_encoding::percent_decode_str(s).collect::<Vec<u8>>();
            Some((uri_encode(&dec(k), false), uri_encode(&dec(v), false)))
        })
        .collect();
    pairs.sort_unstable();
    let mut s = String::with_capacity(raw_query.len() + 8);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// `name:value\n` for each signed header; repeated headers joined with `,`, each value trimmed
/// with inner runs of whitespace collapsed to one space. A signed header that is absent
/// canonicalizes to an empty value (and the signature then fails, as on AWS).
pub fn canonical_headers(req: &Request<'_>, signed_headers: &[String]) -> String {
    let mut s = String::new();
    for name in signed_headers {
        s.push_str(name);
        s.push(':');
        for (i, v) in req.header_values(name).enumerate() {
            if i > 0 {
                s.push(',');
            }
            let text = String::from_utf8_lossy(v);
            for (j, word) in text.split_ascii_whitespace().enumerate() {
                if j > 0 {
                    s.push(' ');
                }
                s.push_str(word);
            }
        }
        s.push('\n');
    }
    s
}

/// The whole canonical request.
pub fn canonical_request(
    req: &Request<'_>,
    signed_headers: &[String],
    payload_hash: &str,
    mode: UriMode,
    presigned: bool,
) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{payload_hash}",
        req.method,
        canonical_uri(req.path, mode),
        canonical_query(req.query, presigned),
        canonical_headers(req, signed_headers),
        signed_headers.join(";"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let d = UriMode::DEFAULT;
        assert_eq!(canonical_uri("", d), "/");
        assert_eq!(canonical_uri("//example//", d), "/example/");
        assert_eq!(canonical_uri("/example1/example2/../..", d), "/");
        assert_eq!(canonical_uri("/./", d), "/");
        assert_eq!(canonical_uri("/a/./b/../c", d), "/a/c");
        // Lambda's ARN in a path: the client sent %3A, the canonical form encodes it again.
        assert_eq!(
            canonical_uri("/2015-03-31/functions/arn%3Aaws%3Alambda/invocations", d),
            "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations"
        );
        // S3 keeps the wire path, dots, double slashes and all.
        let s3 = UriMode::S3;
        assert_eq!(canonical_uri("/b/a//./k%20ey", s3), "/b/a//./k%20ey");
        assert_eq!(canonical_uri("", s3), "/");
    }

    #[test]
    fn queries() {
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1", false),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(canonical_query("b=2&a=1&A=0", false), "A=0&a=1&b=2");
        assert_eq!(canonical_query("acl", false), "acl=");
        assert_eq!(canonical_query("", false), "");
        // Values re-encoded: lower-case escapes, spaces and reserved characters.
        assert_eq!(
            canonical_query("k=a%2fb&x=a b&y=%7e", false),
            "k=a%2Fb&x=a%20b&y=~"
        );
        assert_eq!(canonical_query("a=1&a=0", false), "a=0&a=1");
        assert_eq!(
            canonical_query("X-Amz-Signature=ab&X-Amz-Date=1", true),
            "X-Amz-Date=1"
        );
    }

    #[test]
    fn headers_are_trimmed_collapsed_and_joined() {
        let headers: &[(&str, &[u8])] = &[
            ("Host", b"example.amazonaws.com"),
            ("My-Header1", b"value2"),
            ("My-Header1", b"  value1 "),
            ("My-Header2", b"\"a   b   c\""),
        ];
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers,
        };
        let signed = ["host", "my-header1", "my-header2", "absent"].map(String::from);
        assert_eq!(
            canonical_headers(&req, &signed),
            "host:example.amazonaws.com\nmy-header1:value2,value1\nmy-header2:\"a b c\"\nabsent:\n"
        );
    }
}
