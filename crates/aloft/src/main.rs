//! `aloft`: parse the configuration, build the services, serve them on one port.

mod config;
mod services;

use std::sync::Arc;

use aloft_core::ServiceContext;
use aloft_core::gateway::Gateway;
use clap::Parser;

/// Allocation is a fifth of a small request's instructions with glibc's malloc (bench/README.md);
/// mimalloc is the default (`--no-default-features` builds with glibc's).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = config::Args::parse();
    init_logging(&args.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aloft: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aloft: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: config::Args) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", args.host, args.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let config = Arc::new(args.config(addr.port()));
    let (store, blobs) = storage::open(config.data_dir.as_deref(), args.durability.into())?;
    let ctx = ServiceContext {
        store: store.clone(),
        blobs: blobs.clone(),
        targets: aloft_events::Targets::new(),
        config: config.clone(),
        authority: aloft_core::service::AuthorityCell::default(),
    };
    let services = services::build(&ctx).await;
    if let Some(a) = services.iter().find_map(|s| s.authority()) {
        let _ = ctx.authority.set(a);
    }
    let gateway = Gateway::new(services, config.clone(), store.clone());
    let shutdown = shutdown_signal();
    // The harness and wrappers wait for this line; keep its shape.
    println!("aloft ready on http://{addr}");
    tracing::info!(
        "serving on http://{addr} ({})",
        config.data_dir.as_ref().map_or_else(
            || "in memory".to_string(),
            |d| format!("data in {}, durability {:?}", d.display(), args.durability)
        )
    );
    gateway
        .serve(listener, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    // The ephemeral spill directory goes now: process exit does not run destructors.
    blobs.close();
    // Stale directories of killed runs are swept in the background a moment after start; a run
    // shorter than that sweeps them now.
    aloft_store::TempDir::finish_sweeps();
    let _ = tokio::task::spawn_blocking(move || store.close()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Installs the SIGINT/SIGTERM handlers now (before the ready line, so a signal sent right after
/// start is never lost) and returns a future that resolves on the first signal.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match int.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = term => {},
                () = int => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

mod storage {
    //! Chooses the storage backends from `--data-dir`.
    use std::path::Path;
    use std::sync::Arc;

    use aloft_store::{Blobs, Durability, Durable, Ephemeral, Store};

    pub fn open(
        data_dir: Option<&Path>,
        durability: Durability,
    ) -> Result<(Arc<dyn Store>, Arc<Blobs>), String> {
        match data_dir {
            None => {
                let blobs = Blobs::ephemeral()
                    .map_err(|e| format!("cannot create a spill directory: {e}"))?;
                Ok((Arc::new(Ephemeral), Arc::new(blobs)))
            }
            Some(dir) => {
                // Opened first: it checks the directory's format marker and takes its lock.
                let store = Durable::open_with(dir, durability).map_err(|e| e.to_string())?;
                let blobs = Blobs::durable(dir)
                    .map_err(|e| format!("cannot open blobs in {}: {e}", dir.display()))?;
                Ok((Arc::new(store), Arc::new(blobs)))
            }
        }
    }
}
