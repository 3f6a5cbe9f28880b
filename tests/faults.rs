//! Faults injected into the rings (the `fault-injection` feature): under
//! each, an echo stress with clients that abort mid-stream and a file
//! write/read-back round trip lose no byte, reorder none, do not hang, and
//! `metrics()` shows what shardio did about the fault.
//!
//! Run with `cargo nextest run --features fault-injection --test faults`.
//! A plan is process-wide; the tests also serialize themselves, for
//! `cargo test`.
#![cfg(feature = "fault-injection")]

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use shardio::BuilderExt;
use shardio::fault::{FaultPlan, Injected};
use shardio::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

static SERIAL: Mutex<()> = Mutex::new(());

/// Echo connections per stress, messages per connection, and how many of
/// each hundred connections abort mid-stream.
const CONNS: usize = 48;
const MESSAGES: usize = 24;
const ABORT_PERCENT: u64 = 20;
/// Files written and read back per stress, and bytes each.
const FILES: usize = 4;
const FILE_BYTES: usize = 512 * 1024;
/// A stress that takes longer has hung.
const DEADLINE: Duration = Duration::from_secs(60);

/// A small deterministic generator (xorshift64*), seeded per connection.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// What one stress verified.
#[derive(Debug, Default)]
struct Verified {
    /// Bytes echoed back intact, in order, on connections that finished.
    echoed: u64,
    /// Connections that finished every message.
    finished: usize,
    /// Connections the client aborted mid-stream.
    aborted: usize,
    /// Bytes written to files and read back intact.
    file_bytes: u64,
}

fn multi_thread() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .shardio(shardio::Config::default())
        .build()
        .expect("runtime")
}

fn current_thread() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(shardio::Config::default())
        .build()
        .expect("runtime")
}

/// Runs the echo and file stress on `rt` and checks every byte.
fn stress(rt: &Runtime) -> Verified {
    rt.block_on(async {
        tokio::time::timeout(DEADLINE, async {
            let dir = tempdir();
            let files = tokio::spawn(files_round_trip(dir.clone()));
            let mut verified = echo_stress().await;
            verified.file_bytes = files.await.expect("file task")?;
            std::fs::remove_dir_all(&dir)?;
            io::Result::Ok(verified)
        })
        .await
        .expect("the stress hung: no result within the deadline")
        .expect("the stress failed")
    })
}

async fn echo_stress() -> Verified {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let (mut rd, mut wr) = stream.into_split();
                // A client that aborts resets the connection: not an error here.
                let _ = tokio::io::copy(&mut rd, &mut wr).await;
            });
        }
    });
    let clients: Vec<_> = (0..CONNS)
        .map(|i| tokio::spawn(client(addr, i as u64)))
        .collect();
    let mut verified = Verified::default();
    for client in clients {
        match client.await.expect("client task") {
            Some(bytes) => {
                verified.echoed += bytes;
                verified.finished += 1;
            }
            None => verified.aborted += 1,
        }
    }
    server.abort();
    verified
}

/// One client: messages of random sizes, each echoed and compared; returns
/// the bytes verified, or `None` if it aborted on purpose.
async fn client(addr: std::net::SocketAddr, seed: u64) -> Option<u64> {
    let mut rng = Rng::new(seed + 1);
    let abort_at = (rng.below(100) < ABORT_PERCENT).then(|| rng.below(MESSAGES as u64) as usize);
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut total = 0;
    for message in 0..MESSAGES {
        let len = 1 + rng.below(32 * 1024) as usize;
        let mut out = vec![0; len];
        rng.fill(&mut out);
        if abort_at == Some(message) {
            // Half a message, then a reset: the server sees an error mid-read.
            stream.write_all(&out[..len / 2]).await.expect("write");
            stream.set_zero_linger().expect("linger");
            return None;
        }
        stream.write_all(&out).await.expect("write");
        let mut back = vec![0; len];
        stream
            .read_exact(&mut back)
            .await
            .unwrap_or_else(|e| panic!("client {seed}, message {message}: read failed: {e}"));
        assert!(
            out == back,
            "client {seed}, message {message}: the echo differs from what was sent"
        );
        total += len as u64;
    }
    Some(total)
}

/// Writes files in chunks of random sizes through `shardio::fs::File`,
/// syncs them, reads them back two ways and compares.
async fn files_round_trip(dir: std::path::PathBuf) -> io::Result<u64> {
    let tasks: Vec<_> = (0..FILES)
        .map(|i| {
            let path = dir.join(format!("file{i}"));
            tokio::spawn(async move {
                let mut rng = Rng::new(1000 + i as u64);
                let mut expected = vec![0; FILE_BYTES];
                rng.fill(&mut expected);
                let mut file = shardio::fs::File::create(&path).await?;
                let mut at = 0;
                while at < expected.len() {
                    let n = (1 + rng.below(64 * 1024) as usize).min(expected.len() - at);
                    file.write_all(&expected[at..at + n]).await?;
                    at += n;
                }
                file.flush().await?;
                file.sync_all().await?;
                drop(file);
                let mut back = Vec::new();
                shardio::fs::File::open(&path)
                    .await?
                    .read_to_end(&mut back)
                    .await?;
                assert!(
                    back == expected,
                    "file {i}: read back differs from what was written"
                );
                let whole = shardio::fs::read(&path).await?;
                assert!(
                    whole == expected,
                    "file {i}: fs::read differs from what was written"
                );
                io::Result::Ok(expected.len() as u64)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("file task")?;
    }
    Ok(total)
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shardio-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Installs `plan`, runs the stress on a fresh runtime from `make`, and
/// returns what was verified, what was injected, and the metrics' change.
fn under(plan: FaultPlan, make: fn() -> Runtime) -> (Verified, Injected, Delta) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = shardio::metrics();
    let guard = plan.install().expect("install the fault plan");
    let rt = make();
    let verified = stress(&rt);
    let during = shardio::metrics();
    drop(rt);
    let injected = guard.injected();
    drop(guard);
    assert_eq!(verified.finished + verified.aborted, CONNS);
    assert!(verified.finished > 0 && verified.echoed > 0);
    assert_eq!(verified.file_bytes, (FILES * FILE_BYTES) as u64);
    let delta = Delta::between(&before, &during);
    // Shown with --no-capture: what each fault did.
    println!("verified {verified:?}\ninjected {injected:?}\nmetrics {delta:?}");
    (verified, injected, delta)
}

/// How the counters of `metrics()` moved during a stress.
#[derive(Debug)]
struct Delta {
    enter_retries: u64,
    cq_overflows: u64,
    ops_resubmitted: u64,
    recv_no_buffers: u64,
    registrations_refused: u64,
    ring_setup_failures: u64,
    ops_fallback: u64,
    /// `metrics().ring_failures` while the runtime was alive.
    ring_failures: Vec<shardio::RingFailure>,
    fallback_active: bool,
}

impl Delta {
    fn between(before: &shardio::Metrics, after: &shardio::Metrics) -> Delta {
        Delta {
            enter_retries: after.enter_retries - before.enter_retries,
            cq_overflows: after.cq_overflows - before.cq_overflows,
            ops_resubmitted: after.ops_resubmitted - before.ops_resubmitted,
            recv_no_buffers: after.recv_no_buffers - before.recv_no_buffers,
            registrations_refused: after.registrations_refused - before.registrations_refused,
            ring_setup_failures: after.ring_setup_failures - before.ring_setup_failures,
            ops_fallback: after.ops_fallback - before.ops_fallback,
            ring_failures: after.ring_failures.clone(),
            fallback_active: after.fallback_active,
        }
    }
}

#[test]
fn no_faults_baseline() {
    let (_, injected, delta) = under(FaultPlan::new(), multi_thread);
    assert_eq!(injected, Injected::default());
    assert_eq!(delta.ring_setup_failures, 0);
}

#[test]
fn enter_fails_with_eintr_eagain_ebusy() {
    let (_, injected, delta) = under(FaultPlan::new().seed(1).enter_errors(3), multi_thread);
    assert!(injected.enter_errors > 0, "{injected:?}");
    assert!(delta.enter_retries > 0, "{delta:?}");
}

#[test]
fn tiny_rings_overflow_the_cq() {
    let (_, _, delta) = under(FaultPlan::new().ring_entries(2), multi_thread);
    assert!(delta.cq_overflows > 0, "{delta:?}");
}

#[test]
fn short_reads_and_writes() {
    let (_, injected, _) = under(FaultPlan::new().seed(3).short_transfers(3), multi_thread);
    assert!(injected.short_transfers > 0, "{injected:?}");
}

#[test]
fn cancels_race_completions() {
    let (_, injected, delta) = under(FaultPlan::new().seed(4).cancel_races(3), multi_thread);
    assert!(injected.cancel_races > 0, "{injected:?}");
    assert!(delta.ops_resubmitted > 0, "{delta:?}");
}

#[test]
fn receives_find_no_buffers() {
    let (_, injected, delta) = under(
        FaultPlan::new().seed(5).recv_buffers_exhausted(2),
        multi_thread,
    );
    assert!(injected.recv_buffers_exhausted > 0, "{injected:?}");
    assert!(delta.recv_no_buffers > 0, "{delta:?}");
}

#[test]
fn the_kernel_runs_out_of_provided_buffers() {
    // One 16 KiB buffer per ring for 48 busy connections: the kernel's
    // own ENOBUFS, not an injected one.
    let (_, injected, delta) = under(FaultPlan::new().provided_buffers(1), multi_thread);
    assert_eq!(injected.recv_buffers_exhausted, 0);
    assert!(delta.recv_no_buffers > 0, "{delta:?}");
}

#[test]
fn buffer_registration_refused() {
    let (_, injected, delta) = under(FaultPlan::new().refuse_buffer_registration(), multi_thread);
    assert!(injected.registrations_refused > 0, "{injected:?}");
    assert!(delta.registrations_refused > 0, "{delta:?}");
}

#[test]
fn one_thread_without_a_ring() {
    // The second ring set up fails: one of the three threads (two workers
    // and the one in block_on) has none and uses another's.
    let (_, injected, delta) = under(FaultPlan::new().fail_ring_setup(1), multi_thread);
    assert_eq!(injected.ring_setup_failures, 1);
    assert_eq!(delta.ring_setup_failures, 1, "{delta:?}");
    assert_eq!(delta.ring_failures.len(), 1, "{delta:?}");
    assert!(
        !delta.fallback_active,
        "io_uring is still in use: {delta:?}"
    );
}

#[test]
fn the_only_ring_fails_and_the_runtime_falls_back() {
    let (_, injected, delta) = under(FaultPlan::new().fail_ring_setup(0), current_thread);
    assert_eq!(injected.ring_setup_failures, 1);
    assert_eq!(delta.ring_failures.len(), 1, "{delta:?}");
    assert!(delta.ops_fallback > 0, "{delta:?}");
}

#[test]
fn every_fault_at_once() {
    let plan = FaultPlan::new()
        .seed(9)
        .enter_errors(5)
        .short_transfers(5)
        .cancel_races(5)
        .recv_buffers_exhausted(5)
        .ring_entries(8)
        .provided_buffers(4);
    let (_, injected, delta) = under(plan, multi_thread);
    assert!(injected.enter_errors > 0, "{injected:?}");
    assert!(injected.short_transfers > 0, "{injected:?}");
    assert!(injected.cancel_races > 0, "{injected:?}");
    assert!(
        delta.enter_retries > 0 && delta.ops_resubmitted > 0,
        "{delta:?}"
    );
}

#[test]
fn a_second_plan_is_refused_and_bad_values_are_named() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let guard = FaultPlan::new().install().expect("first plan");
    let err = FaultPlan::new().install().expect_err("second plan");
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    drop(guard);
    let err = FaultPlan::new()
        .provided_buffers(3)
        .install()
        .expect_err("3 buffers");
    assert!(err.to_string().contains("power of two"), "{err}");
    FaultPlan::new()
        .install()
        .expect("a plan after the guard dropped");
}
