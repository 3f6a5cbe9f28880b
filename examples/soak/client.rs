//! A client connection's life, over and over until the run ends: connect,
//! rounds of echo (each checked byte for byte), now and then a slow reader
//! (it pauses before reading its echo) or an abort (the connection dropped
//! mid-stream, reset or closed), and a clean close at the end of a session.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use shardio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::rounds::{Failure, Message, OP_TIMEOUT, abort, close, echo};
use crate::stats::{Problem, Rng, Stats};

pub(crate) struct Client {
    pub(crate) id: u64,
    pub(crate) addrs: Arc<[SocketAddr]>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) stop: CancellationToken,
    pub(crate) think: Duration,
    /// Spread over this before the first connect, so that thousands of
    /// connections do not all arrive at once.
    pub(crate) ramp: Duration,
}

impl Client {
    pub(crate) async fn run(self) {
        let mut rng = Rng::new(self.id + 1);
        let ramp = self.ramp.mul_f64(rng.below(1000) as f64 / 1000.0);
        if !self.pause(ramp).await {
            return;
        }
        while !self.stop.is_cancelled() {
            let addr = self.addrs[rng.below(self.addrs.len() as u64) as usize];
            let stream = match tokio::time::timeout(OP_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    self.stats
                        .problem(Problem::Error, format_args!("connect to {addr}: {e}"));
                    self.pause(Duration::from_secs(1)).await;
                    continue;
                }
                Err(_) => {
                    self.stats.problem(
                        Problem::Hang,
                        format_args!("connect to {addr}: no answer in {OP_TIMEOUT:?}"),
                    );
                    continue;
                }
            };
            self.stats.conns_open.fetch_add(1, Relaxed);
            self.session(stream, &mut rng).await;
            self.stats.conns_open.fetch_sub(1, Relaxed);
        }
    }

    /// Rounds on one connection until an abort, an error, or the end of the
    /// session (or of the run), then a clean close.
    async fn session(&self, mut stream: TcpStream, rng: &mut Rng) {
        let rounds = 20 + rng.below(200);
        for _ in 0..rounds {
            let think = self.think.mul_f64(rng.below(1000) as f64 / 1000.0);
            if !self.pause(think).await {
                break;
            }
            let pick = rng.below(100);
            let seed = rng.next();
            let res = if pick < 2 {
                let msg = Message {
                    seed,
                    len: rng.log_uniform(16 << 10, 1 << 20),
                };
                let cut = rng.below(msg.len as u64) as usize;
                let reset = rng.below(2) == 0;
                let res = abort(stream, msg, cut, reset, &self.stats).await;
                self.stats.aborts.fetch_add(1, Relaxed);
                // Connect again, whatever happened.
                self.judge("abort", res);
                return;
            } else if pick < 5 {
                self.stats.slow_reads.fetch_add(1, Relaxed);
                let pause = Duration::from_millis(500 + rng.below(2500));
                let len = rng.log_uniform(256 << 10, 1 << 20);
                echo(&mut stream, Message { seed, len }, pause, &self.stats).await
            } else {
                let len = rng.log_uniform(1, 64 << 10);
                echo(
                    &mut stream,
                    Message { seed, len },
                    Duration::ZERO,
                    &self.stats,
                )
                .await
            };
            self.stats.rounds.fetch_add(1, Relaxed);
            if !self.judge("echo", res) {
                return;
            }
        }
        let res = close(stream).await;
        if self.judge("close", res) {
            self.stats.sessions.fetch_add(1, Relaxed);
        }
    }

    /// Waits `time`; false if the run ended meanwhile.
    async fn pause(&self, time: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(time) => true,
            _ = self.stop.cancelled() => false,
        }
    }

    /// Counts what went wrong; whether the connection can go on.
    fn judge(&self, what: &str, res: Result<(), Failure>) -> bool {
        match res {
            Ok(()) => true,
            Err(Failure::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                let id = self.id;
                self.stats.problem(
                    Problem::Lost,
                    format_args!("client {id}, {what}: the stream ended early: {e}"),
                );
                false
            }
            Err(Failure::Io(e)) => {
                let id = self.id;
                self.stats
                    .problem(Problem::Error, format_args!("client {id}, {what}: {e}"));
                false
            }
            Err(Failure::Corrupt(at)) => {
                let id = self.id;
                self.stats.problem(
                    Problem::Corrupt,
                    format_args!("client {id}, {what}: byte {at} came back different"),
                );
                false
            }
            Err(Failure::Timeout) => {
                let id = self.id;
                self.stats.problem(
                    Problem::Hang,
                    format_args!("client {id}, {what}: not done in {OP_TIMEOUT:?}"),
                );
                false
            }
        }
    }
}
