//! The workers: each runs one job's requests, one at a time, on a disk
//! file or a TCP connection, and records what they took.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shardio::fs::{File, OpenOptions};
use shardio::net::TcpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::job::{Job, Kind};

/// What one job measured.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) ops: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) lat_ns: Mutex<Vec<u64>>,
    /// Blocks an `append` job wrote so far.
    appended: Arc<AtomicU64>,
    /// For a download job with a stall: bytes its connections' sender
    /// wrote from a second after the readers stopped to the end, and over
    /// how many seconds.
    pub(crate) sent_after_stall: Mutex<Option<(u64, f64)>>,
}

pub(crate) async fn prepare(dir: &Path, job: &Job) -> io::Result<File> {
    let path = dir.join(format!("io_tester-{}.dat", job.name));
    let size = job.data_size.div_ceil(1 << 20) << 20;
    // Reads need data; writes need allocated blocks (overwriting a sparse
    // file makes the filesystem allocate and journal on every write).
    let needs_data = job.kind != Kind::Append;
    let have = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .direct(true)
        .direct_strict(true)
        .open(&path)
        .await?;
    if needs_data && have < size {
        eprintln!("io_tester: filling {} ({} MiB)", path.display(), size >> 20);
        let mut buf = file.aligned_buf(1 << 20)?;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        let mut at = 0;
        while at < size {
            let (res, b) = file.write_all_at(buf, at).await;
            res?;
            buf = b;
            at += 1 << 20;
        }
        file.sync_all().await?;
    } else if !needs_data {
        file.set_len(0).await?;
    }
    Ok(file)
}

pub(crate) struct Worker {
    kind: Kind,
    size: usize,
    blocks: u64,
    interval: Option<Duration>,
    until: Instant,
    tally: Arc<Tally>,
    seed: u64,
    next_seq: u64,
    /// The end of an `append` job's file, shared by its workers.
    append: Arc<AtomicU64>,
    lat: Vec<u64>,
}

impl Worker {
    pub(crate) fn new(
        job: &Job,
        w: usize,
        rps: Option<f64>,
        until: Instant,
        tally: Arc<Tally>,
    ) -> Worker {
        let blocks = (job.data_size / job.request_size as u64).max(1);
        Worker {
            append: Arc::clone(&tally.appended),
            kind: job.kind,
            size: job.request_size,
            blocks,
            interval: rps.map(|r| Duration::from_secs_f64(1.0 / r)),
            until,
            tally,
            seed: 0x9e37_79b9_7f4a_7c15 ^ ((w as u64 + 1) << 32) ^ job.name.len() as u64,
            next_seq: blocks * w as u64 / job.parallelism as u64,
            lat: Vec::new(),
        }
    }

    fn block(&mut self) -> u64 {
        match self.kind {
            Kind::Append => self.append.fetch_add(1, Ordering::Relaxed),
            Kind::RandRead | Kind::RandWrite => {
                self.seed ^= self.seed << 13;
                self.seed ^= self.seed >> 7;
                self.seed ^= self.seed << 17;
                self.seed % self.blocks
            }
            _ => {
                let b = self.next_seq % self.blocks;
                self.next_seq += 1;
                b
            }
        }
    }

    /// Runs requests until the deadline, paced when the job has a rate.
    async fn paced<F, Fut>(&mut self, mut one: F) -> io::Result<()>
    where
        F: FnMut(u64) -> Fut,
        Fut: Future<Output = io::Result<usize>>,
    {
        let start = Instant::now();
        let mut n = 0u32;
        loop {
            if let Some(iv) = self.interval {
                let due = start + iv * n;
                if due >= self.until {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
            } else if Instant::now() >= self.until {
                break;
            }
            n += 1;
            let block = self.block();
            let t = Instant::now();
            let bytes = one(block).await?;
            self.lat.push(t.elapsed().as_nanos() as u64);
            self.tally.ops.fetch_add(1, Ordering::Relaxed);
            self.tally.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        }
        let lat = std::mem::take(&mut self.lat);
        self.tally.lat_ns.lock().expect("tally").extend(lat);
        Ok(())
    }

    pub(crate) async fn disk(&mut self, file: &File) -> io::Result<()> {
        let size = self.size;
        let buf = Arc::new(Mutex::new(Some(file.aligned_buf(size)?)));
        let write = matches!(self.kind, Kind::RandWrite | Kind::SeqWrite | Kind::Append);
        self.paced(|block| {
            let buf = Arc::clone(&buf);
            async move {
                let b = buf
                    .lock()
                    .expect("buf")
                    .take()
                    .expect("one request at a time");
                let pos = block * size as u64;
                let (res, b) = if write {
                    file.write_at(b, pos).await
                } else {
                    file.read_at(b, pos).await
                };
                *buf.lock().expect("buf") = Some(b);
                res
            }
        })
        .await
    }

    /// A network job's connection; `written` counts what the server wrote
    /// for the job (downloads).
    pub(crate) async fn net(
        &mut self,
        addr: std::net::SocketAddr,
        job: u8,
        stall: Option<Duration>,
        written: &AtomicU64,
    ) -> io::Result<()> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let stream = Arc::new(tokio::sync::Mutex::new(stream));
        stream.lock().await.write_all(&[job]).await?;
        let size = self.size;
        let kind = self.kind;
        if let Some(stall) = stall {
            // Read until the stall, then hold the connection unread.
            let until = self.until;
            self.until = until.min(Instant::now() + stall);
            self.net_requests(&stream, kind, size).await?;
            let settle = (Instant::now() + Duration::from_secs(1)).min(until);
            tokio::time::sleep_until(settle.into()).await;
            let (from, at) = (written.load(Ordering::Relaxed), Instant::now());
            tokio::time::sleep_until(until.into()).await;
            let sent = written.load(Ordering::Relaxed) - from;
            *self.tally.sent_after_stall.lock().expect("tally") =
                Some((sent, at.elapsed().as_secs_f64()));
            return Ok(());
        }
        self.net_requests(&stream, kind, size).await
    }

    async fn net_requests(
        &mut self,
        stream: &Arc<tokio::sync::Mutex<TcpStream>>,
        kind: Kind,
        size: usize,
    ) -> io::Result<()> {
        self.paced(|_| {
            let stream = Arc::clone(stream);
            async move {
                let mut s = stream.lock().await;
                let mut buf = vec![1u8; size];
                match kind {
                    Kind::Download => s.read_exact(&mut buf).await.map(drop)?,
                    Kind::Rpc => {
                        s.write_all(&buf).await?;
                        s.read_exact(&mut buf).await.map(drop)?;
                    }
                    _ => s.write_all(&buf).await?,
                }
                Ok(size)
            }
        })
        .await
    }
}
