//! Deployment packages: base64 zips checked against AWS's limits, stored by SHA-256, extracted once.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::error::{Code, Result, err};

/// Direct uploads: AWS refuses request bodies over this for CreateFunction/UpdateFunctionCode.
pub const MAX_ZIPPED_DIRECT: usize = 50 * 1024 * 1024;
/// Function code plus layers, unzipped.
pub const MAX_UNZIPPED: u64 = 262_144_000;

/// A stored package: its digest (base64, as `CodeSha256` shows it), size, and extracted dir.
#[derive(Debug, Clone)]
pub struct Package {
    pub sha256: String,
    pub hex: String,
    pub size: u64,
    pub unzipped: u64,
}

pub fn decode_base64(b64: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| {
            err(
                Code::InvalidParameterValue,
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        })
}

pub fn sha256_b64(bytes: &[u8]) -> (String, String) {
    let d = Sha256::digest(bytes);
    (
        base64::engine::general_purpose::STANDARD.encode(d),
        d.iter().map(|b| format!("{b:02x}")).collect(),
    )
}

fn bad_zip() -> aloft_core::AwsError {
    err(
        Code::InvalidParameterValue,
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )
}

/// Stores `zip` under `root/<hex>.zip` and extracts it to `root/<hex>/` (once per digest).
pub fn store(root: &Path, zip_bytes: &[u8], op: &str) -> Result<Package> {
    if zip_bytes.len() > MAX_ZIPPED_DIRECT {
        return Err(err(
            Code::RequestTooLarge,
            format!("Request must be smaller than 70167211 bytes for the {op} operation"),
        ));
    }
    let (sha256, hex) = sha256_b64(zip_bytes);
    let dir = root.join(&hex);
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).map_err(|_| bad_zip())?;
    let mut unzipped = 0u64;
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).map_err(|_| bad_zip())?;
        unzipped += f.size();
    }
    if unzipped > MAX_UNZIPPED {
        return Err(err(
            Code::InvalidParameterValue,
            format!("Unzipped size must be smaller than {MAX_UNZIPPED} bytes"),
        ));
    }
    if !dir.exists() {
        let tmp = root.join(format!("{hex}.tmp-{}", aloft_core::ids::hex(4)));
        extract(&mut archive, &tmp).map_err(|_| bad_zip())?;
        std::fs::write(root.join(format!("{hex}.zip")), zip_bytes)
            .map_err(|e| err(Code::Service, format!("Could not store the package: {e}")))?;
        if std::fs::rename(&tmp, &dir).is_err() {
            // Another request stored the same digest first.
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    Ok(Package {
        sha256,
        hex,
        size: zip_bytes.len() as u64,
        unzipped,
    })
}

fn extract<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    to: &Path,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to)?;
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(std::io::Error::other)?;
        // enclosed_name refuses `../` and absolute paths (zip slip).
        let Some(rel) = f.enclosed_name() else {
            continue;
        };
        let out: PathBuf = to.join(rel);
        if f.is_dir() {
            std::fs::create_dir_all(&out)?;
            continue;
        }
        if let Some(p) = out.parent() {
            std::fs::create_dir_all(p)?;
        }
        let mut w = std::fs::File::create(&out)?;
        std::io::copy(&mut f, &mut w)?;
        // Zips made on Windows carry no mode: AWS makes files readable, and a `bootstrap`
        // must still be executable, so default to 0755.
        let mode = f.unix_mode().map_or(0o755, |m| m & 0o7777 | 0o444);
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) fn make_zip(files: &[(&str, &str, u32)]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, body, mode) in files {
            let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
            w.start_file(*name, opts).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_extracts_once() {
        let root = std::env::temp_dir().join(format!("aloft-code-{}", aloft_core::ids::hex(4)));
        std::fs::create_dir_all(&root).unwrap();
        let z = make_zip(&[
            ("app.py", "x = 1\n", 0o644),
            ("bin/run", "#!/bin/sh\n", 0o755),
        ]);
        let p = store(&root, &z, "CreateFunction").unwrap();
        assert_eq!(p.size, z.len() as u64);
        assert_eq!(p.unzipped, 16);
        assert!(root.join(&p.hex).join("app.py").exists());
        let again = store(&root, &z, "CreateFunction").unwrap();
        assert_eq!(again.sha256, p.sha256);
        let e = store(&root, b"not a zip", "CreateFunction").unwrap_err();
        assert_eq!(e.code, "InvalidParameterValueException");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
