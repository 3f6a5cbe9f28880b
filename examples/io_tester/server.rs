//! The server side of the network jobs.

use std::sync::Arc;

use shardio::net::TcpListener;
use shardio::sched::PriorityClass;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::job::{Job, Kind};

/// The network jobs' server: the first byte says which job a connection
/// belongs to; rpc connections are echoed, upload connections drained, each
/// in its job's class.
pub(crate) async fn serve(listener: TcpListener, jobs: Vec<(PriorityClass, Job)>) {
    let jobs = Arc::new(jobs);
    while let Ok((mut stream, _)) = listener.accept().await {
        let jobs = Arc::clone(&jobs);
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
