//! shardio::io::unix::AsyncFd behaves like Tokio's, with readiness from the
//! ring (and from Tokio's reactor with SHARDIO_FORCE_FALLBACK=1): eventfd,
//! pipe, socketpair, timerfd, a UDP socket driven with sendmsg/recvmsg and
//! control messages as quinn-udp drives it, and fd passing with SCM_RIGHTS.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use shardio::io::unix::{AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};
use shardio::io::{Interest, Ready};

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out after 20 s")
}

/// True if `f` is still pending after 50 ms.
async fn stays_pending<T>(f: impl std::future::Future<Output = T>) -> bool {
    tokio::time::timeout(Duration::from_millis(50), f)
        .await
        .is_err()
}

fn cvt(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

fn owned(fd: libc::c_int) -> OwnedFd {
    assert!(fd >= 0, "{}", io::Error::last_os_error());
    // SAFETY: a fresh fd nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reads into a valid buffer of its length.
    cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

fn write_fd(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: writes from a valid buffer of its length.
    cvt(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) })
}

fn eventfd() -> OwnedFd {
    // SAFETY: no memory-safety preconditions.
    owned(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array.
    let ret = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(ret, 0, "{}", io::Error::last_os_error());
    (owned(fds[0]), owned(fds[1]))
}

fn socketpair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

fn register<T: AsRawFd>(inner: T, interest: Interest) -> AsyncFd<T> {
    // SAFETY: every object registered here owns its fd and keeps it open,
    // unchanged, while registered.
    unsafe { AsyncFd::register_with_interest(inner, interest) }.unwrap()
}

#[test]
fn public_types_are_send_sync_and_debug() {
    fn send_sync<T: Send + Sync>() {}
    fn debug<T: std::fmt::Debug>() {}
    send_sync::<AsyncFd<OwnedFd>>();
    send_sync::<AsyncFdReadyGuard<'static, OwnedFd>>();
    send_sync::<AsyncFdReadyMutGuard<'static, OwnedFd>>();
    debug::<AsyncFd<OwnedFd>>();
    debug::<AsyncFdReadyGuard<'static, OwnedFd>>();
    debug::<AsyncFdReadyMutGuard<'static, OwnedFd>>();
    debug::<TryIoError>();
    debug::<shardio::io::unix::AsyncFdRegisterError<OwnedFd>>();
}

#[shardio::test]
async fn eventfd_readiness_and_clear_ready_leaves_no_spurious_readiness() {
    bounded(async {
        let before = shardio::metrics();
        let efd = register(eventfd(), Interest::READABLE);
        if !before.fallback_active {
            // The readiness comes from a poll on the ring.
            assert!(shardio::metrics().ops_submitted > before.ops_submitted);
        }
        assert!(
            stays_pending(efd.readable()).await,
            "a fresh eventfd is not readable"
        );

        write_fd(efd.as_raw_fd(), &1u64.to_ne_bytes()).unwrap();
        let mut guard = efd.readable().await.unwrap();
        assert!(guard.ready().is_readable());
        let mut value = [0u8; 8];
        let res = guard.try_io(|fd| read_fd(fd.as_raw_fd(), &mut value));
        assert_eq!(res.unwrap().unwrap(), 8);
        assert_eq!(u64::from_ne_bytes(value), 1);
        // Consumed: clearing must leave it not ready until the next write.
        guard.clear_ready();
        assert!(guard.ready().is_empty());
        assert!(
            stays_pending(efd.readable()).await,
            "spurious readiness after clear_ready"
        );

        write_fd(efd.as_raw_fd(), &5u64.to_ne_bytes()).unwrap();
        let n = efd
            .async_io(Interest::READABLE, |fd| read_fd(fd.as_raw_fd(), &mut value))
            .await
            .unwrap();
        assert_eq!((n, u64::from_ne_bytes(value)), (8, 5));
    })
    .await
}

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipe_readiness_both_ends_and_hang_up() {
    bounded(async {
        let (r, w) = pipe();
        let r = register(r, Interest::READABLE);
        let w = register(w, Interest::WRITABLE);
        assert!(stays_pending(r.readable()).await);
        w.writable().await.unwrap().retain_ready();

        let n = w
            .async_io(Interest::WRITABLE, |fd| write_fd(fd.as_raw_fd(), b"hello"))
            .await
            .unwrap();
        assert_eq!(n, 5);
        let mut buf = [0u8; 16];
        let mut guard = r.readable().await.unwrap();
        assert_eq!(
            guard
                .try_io(|fd| read_fd(fd.as_raw_fd(), &mut buf))
                .unwrap()
                .unwrap(),
            5
        );
        assert_eq!(&buf[..5], b"hello");
        // Drained: the next try sees WouldBlock and clears the readiness.
        assert!(
            guard
                .try_io(|fd| read_fd(fd.as_raw_fd(), &mut buf))
                .is_err()
        );
        assert!(
            stays_pending(r.readable()).await,
            "readiness survived a WouldBlock"
        );

        // The writer hangs up: readable, with READ_CLOSED, and read gives EOF.
        drop(w);
        let guard = r.readable().await.unwrap();
        assert!(guard.ready().is_read_closed(), "{:?}", guard.ready());
        assert_eq!(read_fd(r.as_raw_fd(), &mut buf).unwrap(), 0);
    })
    .await
}

#[shardio::test]
async fn try_io_would_block_clears_readiness() {
    bounded(async {
        let (a, mut b) = socketpair();
        let a = register(a, Interest::READABLE | Interest::WRITABLE);
        b.write_all(b"x").unwrap();
        a.readable().await.unwrap().retain_ready();

        let mut called = false;
        let err = a
            .try_io(Interest::READABLE, |_| {
                called = true;
                io::Result::<()>::Err(io::ErrorKind::WouldBlock.into())
            })
            .unwrap_err();
        assert!(called && err.kind() == io::ErrorKind::WouldBlock);
        // Cleared: not called again until a new event, though a byte waits.
        let mut called = false;
        let err = a
            .try_io(Interest::READABLE, |_| {
                called = true;
                Ok(())
            })
            .unwrap_err();
        assert!(!called && err.kind() == io::ErrorKind::WouldBlock);
        // Write readiness was not touched by clearing read readiness.
        assert!(a.try_io(Interest::WRITABLE, |_| Ok(())).is_ok());

        b.write_all(b"y").unwrap();
        let mut buf = [0u8; 4];
        let n = a
            .async_io(Interest::READABLE, |s| (&*s).read(&mut buf))
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"xy");
    })
    .await
}

#[shardio::test]
async fn clear_ready_matching_keeps_the_other_direction() {
    bounded(async {
        let (a, mut b) = socketpair();
        let a = register(a, Interest::READABLE | Interest::WRITABLE);
        b.write_all(b"0").unwrap();
        // Both bits may come from different events: wait until both are seen.
        let mut guard = loop {
            let guard = a
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            if guard.ready() == Ready::READABLE | Ready::WRITABLE {
                break guard;
            }
            drop(guard);
            tokio::task::yield_now().await;
        };
        guard.clear_ready_matching(Ready::READABLE);
        assert_eq!(guard.ready(), Ready::WRITABLE);
        guard.clear_ready_matching(Ready::WRITABLE);
        assert_eq!(guard.ready(), Ready::EMPTY);
        drop(guard);
        // Both cleared in the registration too (nothing new happened).
        assert!(stays_pending(a.ready(Interest::READABLE | Interest::WRITABLE)).await);
    })
    .await
}

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writable_on_a_socketpair_that_fills_up() {
    bounded(async {
        let (a, b) = socketpair();
        let mut a = register(a, Interest::WRITABLE);
        let chunk = [7u8; 4096];
        let mut written = 0;
        loop {
            let mut guard = a.writable_mut().await.unwrap();
            match guard.try_io(|fd| fd.get_mut().write(&chunk)) {
                Ok(res) => written += res.unwrap(),
                Err(TryIoError { .. }) => break,
            }
        }
        assert!(written > 0);
        assert!(
            stays_pending(a.writable()).await,
            "writable although the buffer is full"
        );

        // The peer drains: the writer is woken.
        let waiter = tokio::spawn(async move {
            a.writable().await.unwrap().retain_ready();
            a
        });
        let mut b = b;
        let mut buf = vec![0u8; 65536];
        let mut read = 0;
        while read < written {
            match b.read(&mut buf) {
                Ok(n) => read += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(e) => panic!("{e}"),
            }
        }
        waiter.await.unwrap();
    })
    .await
}

#[shardio::test]
async fn readiness_arriving_while_a_guard_is_held_is_not_lost() {
    bounded(async {
        let (a, mut b) = socketpair();
        let a = register(a, Interest::READABLE);
        b.write_all(b"1").unwrap();
        let mut old = a.readable().await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(a.get_ref().read(&mut buf).unwrap(), 1);
        // New data arrives and is seen (a newer event) before the old guard
        // is cleared: clearing the old one must not clear the new event.
        b.write_all(b"2").unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        a.readable().await.unwrap().retain_ready();
        old.clear_ready();
        let guard = tokio::time::timeout(Duration::from_secs(2), a.readable())
            .await
            .expect("the event that arrived while the guard was held was lost")
            .unwrap();
        assert!(guard.ready().is_readable());
        assert_eq!(a.get_ref().read(&mut buf).unwrap(), 1);
    })
    .await
}

#[shardio::test]
async fn into_inner_leaves_nothing_armed() {
    bounded(async {
        let fallback = shardio::metrics().fallback_active;
        let (a, mut b) = socketpair();
        let afd = register(a, Interest::READABLE | Interest::WRITABLE);
        afd.writable().await.unwrap().retain_ready();
        let before = shardio::metrics().ops_cancelled;
        let a = afd.into_inner();
        if !fallback {
            assert!(
                shardio::metrics().ops_cancelled > before,
                "into_inner did not cancel the ring's poll"
            );
        }
        // The fd works with plain blocking calls.
        a.set_nonblocking(false).unwrap();
        b.write_all(b"blocking").unwrap();
        let mut buf = [0u8; 8];
        (&a).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"blocking");
        // Nothing holds the socket any more: closing it is seen at once.
        drop(a);
        assert_eq!(
            b.read(&mut buf).unwrap(),
            0,
            "the socket outlived into_inner + close"
        );

        // Dropping the AsyncFd closes its fd (and the poll is gone with it).
        let (a, mut b) = socketpair();
        let afd = register(a, Interest::READABLE);
        assert_eq!(
            b.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        drop(afd);
        assert_eq!(b.read(&mut buf).unwrap(), 0);
    })
    .await
}

#[shardio::test]
async fn register_refuses_what_epoll_refuses() {
    let file = std::fs::File::open("/proc/self/exe").unwrap();
    // SAFETY: the file owns its fd and keeps it while registered.
    let err = unsafe { AsyncFd::register(file) }.unwrap_err();
    let (file, cause) = err.into_parts();
    assert_eq!(cause.raw_os_error(), Some(libc::EPERM));
    drop(file);
}

#[shardio::test]
async fn timerfd_ticks() {
    bounded(async {
        // SAFETY: no memory-safety preconditions.
        let tfd = owned(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        });
        let period = libc::timespec {
            tv_sec: 0,
            tv_nsec: 10_000_000,
        };
        let spec = libc::itimerspec {
            it_interval: period,
            it_value: period,
        };
        // SAFETY: a valid itimerspec; the old value is not asked for.
        let ret = unsafe { libc::timerfd_settime(tfd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        assert_eq!(ret, 0);
        let tfd = register(tfd, Interest::READABLE);
        let mut expirations = 0;
        while expirations < 5 {
            let mut value = [0u8; 8];
            let n = tfd
                .async_io(Interest::READABLE, |fd| read_fd(fd.as_raw_fd(), &mut value))
                .await
                .unwrap();
            assert_eq!(n, 8);
            expirations += u64::from_ne_bytes(value);
        }
    })
    .await
}

#[path = "io_async_fd/cmsg.rs"]
mod cmsg;

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_with_pktinfo_and_segmentation_through_sendmsg_recvmsg() {
    bounded(cmsg::udp_gso_gro_pktinfo()).await
}

#[shardio::test]
async fn fd_passing_with_scm_rights() {
    bounded(cmsg::scm_rights()).await
}

#[shardio::test]
async fn priority_readiness_for_tcp_urgent_data() {
    bounded(async {
        // io_uring's poll ignores a wake-up that only matches POLLPRI; the
        // registration must still see TCP's urgent data.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_nonblocking(true).unwrap();
        let client = register(client, Interest::PRIORITY);
        let (server, _) = listener.accept().unwrap();
        assert!(stays_pending(client.ready(Interest::PRIORITY)).await);
        // SAFETY: sends 5 bytes from a valid buffer.
        let sent = unsafe {
            libc::send(
                server.as_raw_fd(),
                b"hello".as_ptr().cast(),
                5,
                libc::MSG_OOB,
            )
        };
        assert_eq!(sent, 5);
        let guard = client.ready(Interest::PRIORITY).await.unwrap();
        assert!(guard.ready().is_priority(), "{:?}", guard.ready());
        assert!(
            !guard.ready().is_readable(),
            "readable is not part of the interest"
        );
    })
    .await
}

#[test]
fn readiness_at_registration_is_judged_when_first_checked() {
    // Tokio's epoll registration computes the first event's readiness when
    // the reactor collects it: a socket registered and then filled before
    // anything ran is not writable. The ring's first completion carries the
    // state at registration, so it is checked again when first taken in.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (a, _b) = socketpair();
    let a = {
        let _enter = rt.enter();
        register(a, Interest::READABLE | Interest::WRITABLE)
    };
    while a.get_ref().write(&[0; 4096]).is_ok() {}
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(
        a.poll_write_ready(&mut cx).is_pending(),
        "writable although full"
    );
    assert!(a.poll_read_ready(&mut cx).is_pending());
    drop(a);
}
