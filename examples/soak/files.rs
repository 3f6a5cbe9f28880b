//! File I/O beside the network: files written and read back (checked byte
//! for byte) through a stream-style `File` and through positional owned
//! buffers, then removed.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use shardio::fs::File;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::rounds::OP_TIMEOUT;
use crate::stats::{Problem, Rng, Stats};

pub(crate) struct FileWorker {
    pub(crate) id: u64,
    pub(crate) dir: PathBuf,
    pub(crate) stats: Arc<Stats>,
    pub(crate) stop: CancellationToken,
}

impl FileWorker {
    pub(crate) async fn run(self) {
        let mut rng = Rng::new(0xF11E + self.id);
        let mut n = 0u64;
        while !self.stop.is_cancelled() {
            let path = self.dir.join(format!("worker{}-{n}.dat", self.id));
            n += 1;
            let size = rng.log_uniform(1 << 10, 1 << 20);
            let data = rng.bytes(size);
            let positional = rng.below(2) == 0;
            let sync = rng.below(8) == 0;
            let round = async {
                let back = if positional {
                    positional_round(&path, &data).await?
                } else {
                    stream_round(&path, &data, sync).await?
                };
                shardio::fs::remove_file(&path).await?;
                io::Result::Ok(back)
            };
            match tokio::time::timeout(OP_TIMEOUT, round).await {
                Ok(Ok(back)) => match data.iter().zip(&back).position(|(a, b)| a != b) {
                    _ if back.len() != data.len() => self.stats.problem(
                        Problem::Lost,
                        format_args!(
                            "{}: read back {} of {} bytes",
                            path.display(),
                            back.len(),
                            data.len()
                        ),
                    ),
                    Some(at) => self.stats.problem(
                        Problem::Corrupt,
                        format_args!("{}: byte {at} read back different", path.display()),
                    ),
                    None => {
                        self.stats
                            .file_verified
                            .fetch_add(data.len() as u64, Relaxed);
                        self.stats.file_ops.fetch_add(1, Relaxed);
                    }
                },
                Ok(Err(e)) => self
                    .stats
                    .problem(Problem::Error, format_args!("{}: {e}", path.display())),
                Err(_) => self.stats.problem(
                    Problem::Hang,
                    format_args!("{}: not done in {OP_TIMEOUT:?}", path.display()),
                ),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(10 + rng.below(90))) => {}
                _ = self.stop.cancelled() => break,
            }
        }
    }
}

/// `write_all` through `AsyncWrite`, optionally `sync_all`, and
/// `shardio::fs::read` back.
async fn stream_round(path: &PathBuf, data: &[u8], sync: bool) -> io::Result<Vec<u8>> {
    let mut file = File::create(path).await?;
    file.write_all(data).await?;
    file.flush().await?;
    if sync {
        file.sync_all().await?;
    }
    drop(file);
    shardio::fs::read(path).await
}

/// The second half written before the first, at their offsets, then read
/// back whole with one positional read.
async fn positional_round(path: &PathBuf, data: &[u8]) -> io::Result<Vec<u8>> {
    let file = File::create(path).await?;
    let half = data.len() / 2;
    let (res, _) = file.write_all_at(data[half..].to_vec(), half as u64).await;
    res?;
    let (res, _) = file.write_all_at(data[..half].to_vec(), 0).await;
    res?;
    let (res, back) = file.read_exact_at(vec![0u8; data.len()], 0).await;
    res?;
    Ok(back)
}
