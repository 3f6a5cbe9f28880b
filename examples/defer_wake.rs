//! How promptly a completion wakes a thread that sleeps in `epoll_wait`, as
//! Tokio's workers do, for each kind of ring shardio could give them.
//!
//! shardio wakes a ring's reaper through Tokio's reactor: the ring signals an
//! eventfd that Tokio's epoll watches. Whether `IORING_SETUP_SINGLE_ISSUER` +
//! `DEFER_TASKRUN` can be used depends on how fast that signal arrives when
//! the completion's work is deferred to the owner thread, which is a property
//! of the kernel. This example measures it on the machine it runs on.
//!
//! Each round arms one `recv` on a socket pair, sleeps in `epoll_wait`, and
//! has another thread write one byte 2 ms later; the figure is the time from
//! that write to `epoll_wait`'s return. Rows:
//!
//! - `coop + eventfd`: shardio's rings today (`COOP_TASKRUN`). The receive's
//!   task work interrupts the sleep (`EINTR`), runs, and signals the eventfd,
//!   so the caller waits a second time and returns at once.
//! - `defer + eventfd`: `SINGLE_ISSUER` + `DEFER_TASKRUN`.
//! - `defer + ring fd`: the same ring, epoll watching the ring's fd instead.
//!
//! `cargo run --release --example defer_wake [rounds]` (default 100).
//! On the project's Linux 6.18 machine (2026-12-07): `coop + eventfd` p50
//! 17-27 µs with one `EINTR` per round; `defer + eventfd` p50 13.8 ms,
//! arriving on a 16 ms cadence, not when the byte does; `defer + ring fd`
//! never woke within 100 ms. A TCP loopback pair in place of the
//! socket pair gave the same (13.8 ms; never). So shardio's rings do not defer their task
//! work (DESIGN.md §1).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use io_uring::{IoUring, opcode, types};

/// How long a round waits in `epoll_wait` before calling it a miss.
const WAIT_MS: i32 = 100;

#[derive(Clone, Copy)]
enum Ring {
    Coop,
    Defer,
}

#[derive(Clone, Copy)]
enum Watch {
    EventFd,
    RingFd,
}

struct Row {
    latencies: Vec<Duration>,
    interrupted: usize,
    missed: usize,
}

fn check(ret: libc::c_int, what: &str) -> io::Result<RawFd> {
    if ret < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
    }
    Ok(ret)
}

fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful system call that
    // created it, and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn measure(kind: Ring, watch: Watch, rounds: usize) -> io::Result<Row> {
    let mut builder = IoUring::<io_uring::squeue::Entry, io_uring::cqueue::Entry>::builder();
    match kind {
        Ring::Coop => builder.setup_coop_taskrun().setup_taskrun_flag(),
        Ring::Defer => builder.setup_single_issuer().setup_defer_taskrun(),
    };
    let mut ring = builder.build(8)?;
    // SAFETY: plain system calls on no memory of ours.
    let eventfd = owned(check(
        unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) },
        "eventfd",
    )?);
    ring.submitter().register_eventfd(eventfd.as_raw_fd())?;
    // SAFETY: as above.
    let epoll = owned(check(
        unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
        "epoll_create1",
    )?);
    let watched = match watch {
        Watch::EventFd => eventfd.as_raw_fd(),
        Watch::RingFd => ring.as_raw_fd(),
    };
    let mut event = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLET) as u32,
        u64: 1,
    };
    let epoll_fd = epoll.as_raw_fd();
    // SAFETY: `event` is a valid epoll_event for the call's duration.
    let added = unsafe { libc::epoll_ctl(epoll_fd, libc::EPOLL_CTL_ADD, watched, &mut event) };
    check(added, "epoll_ctl")?;
    let mut pair = [0; 2];
    // SAFETY: `pair` has room for the two fds the call writes.
    let made = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, pair.as_mut_ptr()) };
    check(made, "socketpair")?;
    let (reader, writer) = (owned(pair[0]), owned(pair[1]));

    let (go, go_rx) = mpsc::channel::<()>();
    let (sent_tx, sent) = mpsc::channel::<Instant>();
    let writer_thread = std::thread::spawn(move || {
        while go_rx.recv().is_ok() {
            std::thread::sleep(Duration::from_millis(2));
            let _ = sent_tx.send(Instant::now());
            // SAFETY: writes one byte from a static buffer.
            unsafe { libc::write(writer.as_raw_fd(), b"x".as_ptr().cast(), 1) };
        }
    });

    let mut buf = [0u8; 64];
    let mut row = Row {
        latencies: Vec::with_capacity(rounds),
        interrupted: 0,
        missed: 0,
    };
    for _ in 0..rounds {
        let recv = opcode::Recv::new(types::Fd(reader.as_raw_fd()), buf.as_mut_ptr(), 64)
            .build()
            .user_data(1);
        // SAFETY: `buf` outlives the receive: every round waits below for
        // its completion before `buf` is touched or the round repeats.
        unsafe { ring.submission().push(&recv) }.map_err(io::Error::other)?;
        ring.completion().disable_eventfd();
        ring.submit()?;
        ring.completion().enable_eventfd();
        let mut count = 0u64;
        // SAFETY: reads 8 bytes into `count`; the eventfd is non-blocking.
        unsafe { libc::read(eventfd.as_raw_fd(), (&raw mut count).cast(), 8) };
        go.send(()).map_err(io::Error::other)?;
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 4];
        let woke = loop {
            // SAFETY: `events` has room for the 4 events asked for.
            let n = unsafe { libc::epoll_wait(epoll.as_raw_fd(), events.as_mut_ptr(), 4, WAIT_MS) };
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                row.interrupted += 1;
                continue;
            }
            check(n, "epoll_wait")?;
            break (n > 0).then(Instant::now);
        };
        let sent_at = sent.recv().map_err(io::Error::other)?;
        match woke {
            Some(at) => row.latencies.push(at.saturating_duration_since(sent_at)),
            None => row.missed += 1,
        }
        // Reap the receive (on the deferred ring this runs its task work)
        // so that the next round starts with nothing in flight.
        loop {
            ring.completion().sync();
            if ring.completion().next().is_some() {
                break;
            }
            match ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }
    drop(go);
    let _ = writer_thread.join();
    row.latencies.sort();
    Ok(row)
}

fn main() -> io::Result<()> {
    let rounds = std::env::args()
        .nth(1)
        .map(|s| s.parse::<usize>())
        .transpose()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("rounds: {e}")))?
        .unwrap_or(100)
        .max(1);
    println!(
        "{:<18} {:>10} {:>10} {:>10} {:>7} {:>7}",
        "ring + watched fd", "p50", "p90", "max", "EINTR", "missed"
    );
    for (name, kind, watch) in [
        ("coop + eventfd", Ring::Coop, Watch::EventFd),
        ("defer + eventfd", Ring::Defer, Watch::EventFd),
        ("defer + ring fd", Ring::Defer, Watch::RingFd),
    ] {
        let row = match measure(kind, watch, rounds) {
            Ok(row) => row,
            Err(e) => {
                println!("{name:<18} not measured: {e}");
                continue;
            }
        };
        let at = |q: f64| {
            let n = row.latencies.len();
            if n == 0 {
                return "-".to_string();
            }
            format!("{:.1?}", row.latencies[((n - 1) as f64 * q) as usize])
        };
        println!(
            "{name:<18} {:>10} {:>10} {:>10} {:>7} {:>7}",
            at(0.5),
            at(0.9),
            at(1.0),
            row.interrupted,
            row.missed
        );
    }
    println!(
        "(time from a peer's write to epoll_wait returning; missed = no wake within {WAIT_MS} ms)"
    );
    Ok(())
}
