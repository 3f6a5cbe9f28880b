//! One round's I/O, checked byte for byte: an echo (the reader maybe
//! pausing first), an abort mid-stream, and the clean close. A message is
//! made from a seed chunk by chunk on both sides (writer and checker), so a
//! round holds two 16 KiB chunks whatever its size: the process's memory
//! is then shardio's and the connections', not the messages'.

use std::io;
use std::pin::pin;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use shardio::net::TcpStream;
use shardio::net::tcp::{ReadHalf, WriteHalf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::stats::{Rng, Stats};

/// Longer than any round takes: a round that does not end by then hangs.
pub(crate) const OP_TIMEOUT: Duration = Duration::from_secs(60);

/// Bytes written, or read and checked, at a time (a multiple of 8, so both
/// sides cut the seed's stream of u64s alike).
const CHUNK: usize = 16 * 1024;

pub(crate) enum Failure {
    Io(io::Error),
    /// The position of the first byte that differs.
    Corrupt(usize),
    Timeout,
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Io(e)
    }
}

/// A message: `len` bytes made from `seed`.
#[derive(Clone, Copy)]
pub(crate) struct Message {
    pub(crate) seed: u64,
    pub(crate) len: usize,
}

impl Message {
    /// Writes the message, a chunk at a time.
    async fn send(self, w: &mut WriteHalf<'_>) -> io::Result<()> {
        let mut rng = Rng::new(self.seed);
        let mut chunk = vec![0u8; CHUNK.min(self.len)];
        let mut at = 0;
        while at < self.len {
            let n = (self.len - at).min(CHUNK);
            rng.fill(&mut chunk[..n]);
            w.write_all(&chunk[..n]).await?;
            at += n;
        }
        Ok(())
    }

    /// Reads the first `upto` bytes of the message back and checks them.
    async fn check(self, r: &mut ReadHalf<'_>, upto: usize) -> Result<(), Failure> {
        let mut rng = Rng::new(self.seed);
        let mut got = vec![0u8; CHUNK.min(upto)];
        let mut want = vec![0u8; CHUNK.min(self.len)];
        let mut at = 0;
        while at < upto {
            // Whole chunks as the writer made them; the last may be cut.
            let n = (self.len - at).min(CHUNK);
            let take = n.min(upto - at);
            r.read_exact(&mut got[..take]).await?;
            rng.fill(&mut want[..n]);
            if let Some(i) = got[..take].iter().zip(&want).position(|(a, b)| a != b) {
                return Err(Failure::Corrupt(at + i));
            }
            at += take;
        }
        Ok(())
    }
}

async fn bounded<T>(
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or(Err(Failure::Timeout))
}

/// Sends `msg` and reads its echo at the same time (after `pause`, for a
/// slow reader: the echo then piles up in the receive and the server's
/// send, and pushes back on the writer), and checks every byte.
pub(crate) async fn echo(
    stream: &mut TcpStream,
    msg: Message,
    pause: Duration,
    stats: &Stats,
) -> Result<(), Failure> {
    bounded(OP_TIMEOUT + pause, async {
        let (mut r, mut w) = stream.split();
        let reading = async {
            tokio::time::sleep(pause).await;
            msg.check(&mut r, msg.len).await
        };
        let (written, read) = tokio::join!(msg.send(&mut w), reading);
        written?;
        read?;
        stats.net_verified.fetch_add(msg.len as u64, Relaxed);
        Ok(())
    })
    .await
}

/// Sends `msg` while reading the first `cut` bytes of its echo, then drops
/// the connection with the write possibly still in flight and echoed bytes
/// unread: reset (zero linger) or closed. The part read is checked.
pub(crate) async fn abort(
    mut stream: TcpStream,
    msg: Message,
    cut: usize,
    reset: bool,
    stats: &Stats,
) -> Result<(), Failure> {
    bounded(OP_TIMEOUT, async {
        if reset {
            stream.set_zero_linger()?;
        }
        let (mut r, mut w) = stream.split();
        let mut writing = pin!(msg.send(&mut w));
        let mut reading = pin!(msg.check(&mut r, cut));
        let mut written = false;
        loop {
            tokio::select! {
                res = &mut writing, if !written => {
                    res?;
                    written = true;
                }
                res = &mut reading => {
                    res?;
                    break;
                }
            }
        }
        // The write may still wait here: dropped with the stream.
        stats.net_verified.fetch_add(cut as u64, Relaxed);
        Ok(())
    })
    .await
}

/// The clean end: the client closes its side, the server answers with its
/// own close, and nothing else may arrive before it.
pub(crate) async fn close(mut stream: TcpStream) -> Result<(), Failure> {
    bounded(OP_TIMEOUT, async {
        stream.shutdown().await?;
        let mut extra = [0u8; 1];
        match stream.read(&mut extra).await? {
            0 => Ok(()),
            _ => Err(Failure::Corrupt(0)),
        }
    })
    .await
}
