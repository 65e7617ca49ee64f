//! Command line and `ALOFT_*` environment.

use std::collections::HashMap;
use std::path::PathBuf;

use aloft_core::service::Config;
use clap::Parser;

/// When a `--data-dir` write is acknowledged (see `aloft_store::Durability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    Disk,
    Process,
}

impl From<Durability> for aloft_store::Durability {
    fn from(d: Durability) -> Self {
        match d {
            Durability::Disk => aloft_store::Durability::Disk,
            Durability::Process => aloft_store::Durability::Process,
        }
    }
}

/// The AWS serverless cloud on one laptop.
#[derive(Debug, Parser)]
#[command(name = "aloft", version, about)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "ALOFT_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one; the ready line tells which).
    #[arg(long, env = "ALOFT_PORT", default_value_t = 4566)]
    pub port: u16,
    /// Keep all state in this directory, durably. Without it, state lives in memory.
    #[arg(long, env = "ALOFT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// With --data-dir: when a write is acknowledged. `process` (default): once it is written to
    /// the OS, synced to the disk within about 0.1 s; it survives `kill -9` of Aloft, and an OS
    /// crash or power loss can lose that last 0.1 s (like Redis's `appendfsync everysec`, with a
    /// shorter window). `disk`: once it is on the disk, so it also survives an OS crash and power
    /// loss (each group of concurrent writes waits for the device's flush).
    #[arg(long, env = "ALOFT_DURABILITY", value_enum, default_value_t = Durability::Process)]
    pub durability: Durability,
    /// Log filter: error, warn, info, debug, trace, or a tracing directive list.
    #[arg(long, env = "ALOFT_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Verify SigV4 signatures against known credentials (off by default).
    #[arg(long, env = "ALOFT_VERIFY_SIGNATURES")]
    pub verify_signatures: bool,
    /// Authorize every request with IAM policies (off by default).
    #[arg(long, env = "ALOFT_ENFORCE_IAM")]
    pub enforce_iam: bool,
    /// Service settings, `key=value` (repeatable; env: comma-separated), e.g. `dynamodb.throttle=true`.
    #[arg(long = "set", env = "ALOFT_SET", value_delimiter = ',')]
    pub settings: Vec<String>,
}

impl Args {
    pub fn config(&self, port: u16) -> Config {
        let mut settings: HashMap<String, String> = self
            .settings
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        if self.verify_signatures {
            settings.insert("iam.verify_signatures".into(), "true".into());
        }
        if self.enforce_iam {
            settings.insert("iam.enforce".into(), "true".into());
        }
        let host_for_clients = match self.host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
            h => h,
        };
        Config {
            host: self.host.clone(),
            port,
            data_dir: self.data_dir.clone(),
            internal_url: format!("http://{host_for_clients}:{port}"),
            settings,
        }
    }
}
