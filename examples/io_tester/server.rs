//! The server side of the network jobs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shardio::net::TcpListener;
use shardio::sched::PriorityClass;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::job::{Job, Kind};

/// The network jobs' server: the first byte says which job a connection
/// belongs to; rpc connections are echoed, upload connections drained,
/// download connections written to as fast as they take it (the bytes
/// each job's connections took counted in `written[job]`), each in its
/// job's class.
pub(crate) async fn serve(
    listener: TcpListener,
    jobs: Vec<(PriorityClass, Job)>,
    written: Arc<[AtomicU64]>,
) {
    let jobs = Arc::new(jobs);
    while let Ok((mut stream, _)) = listener.accept().await {
        let (jobs, written) = (Arc::clone(&jobs), Arc::clone(&written));
        tokio::spawn(async move {
            let mut id = [0u8];
            if stream.read_exact(&mut id).await.is_err() {
                return;
            }
            let Some((class, job)) = jobs.get(id[0] as usize) else {
                return;
            };
            let _ = stream.set_nodelay(true);
            stream.set_class(class);
            let mut buf = vec![0u8; job.request_size];
            if job.kind == Kind::Download {
                while stream.write_all(&buf).await.is_ok() {
                    written[id[0] as usize].fetch_add(buf.len() as u64, Ordering::Relaxed);
                }
                return;
            }
            let echo = job.kind == Kind::Rpc;
            loop {
                if stream.read_exact(&mut buf).await.is_err() {
                    return;
                }
                if echo && stream.write_all(&buf).await.is_err() {
                    return;
                }
            }
        });
    }
}
