//! Priority classes in front of real operations: shares split a contended
//! device, classes are chosen by `set_class`, `scope` and `force`, and the
//! settings come from `Config`. (The fair queue and the token bucket
//! themselves are tested tick by tick in `src/sched`.)
//!
//! Each test runs in its own process under nextest; the scheduler settings
//! are process-wide, so each builds its runtime with the settings it needs.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use shardio::BuilderExt;
use shardio::fs::File;
use shardio::sched::PriorityClass;

fn temp(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "shardio-sched-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

fn runtime(config: shardio::Config) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .shardio(config)
        .build()
        .expect("runtime")
}

/// `tasks` tasks per class keep writing 4 KiB blocks until `stop`.
async fn keep_writing(file: Arc<File>, class: PriorityClass, tasks: usize, stop: Arc<AtomicBool>) {
    let mut handles = Vec::new();
    for t in 0..tasks {
        let file = Arc::clone(&file);
        let stop = Arc::clone(&stop);
        handles.push(class.spawn(async move {
            let mut buf = vec![t as u8; 4096];
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (res, b) = file.write_at(buf, (t as u64 * 64 + i % 64) * 4096).await;
                res.expect("write");
                buf = b;
                i += 1;
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
}

#[test]
fn shares_split_a_contended_device_across_threads() -> io::Result<()> {
    // One request in flight at a time: every dispatch is the fair queue's
    // choice, whichever worker thread issued it.
    let rt = runtime(shardio::Config::new().io_inflight_cap(1)?);
    rt.block_on(async {
        let path = temp("shares");
        let file = Arc::new(File::create(&path).await?);
        let low = PriorityClass::new("low", 100);
        let high = PriorityClass::new("high", 400);
        let stop = Arc::new(AtomicBool::new(false));
        let a = tokio::spawn(keep_writing(
            Arc::clone(&file),
            low.clone(),
            8,
            Arc::clone(&stop),
        ));
        let b = tokio::spawn(keep_writing(
            Arc::clone(&file),
            high.clone(),
            8,
            Arc::clone(&stop),
        ));
        // Run until the classes together did 4000 writes (no timing).
        while low.stats().ops + high.stats().ops < 4000 {
            tokio::task::yield_now().await;
        }
        let (l0, h0) = (low.stats(), high.stats());
        while low.stats().ops + high.stats().ops < 8000 {
            tokio::task::yield_now().await;
        }
        let (l1, h1) = (low.stats(), high.stats());
        stop.store(true, Ordering::Relaxed);
        a.await.expect("low");
        b.await.expect("high");
        let ratio = (h1.consumption - h0.consumption) / (l1.consumption - l0.consumption);
        assert!(
            (3.6..=4.4).contains(&ratio),
            "shares 400:100 gave a consumption ratio of {ratio:.2} ({l1:?} {h1:?})"
        );
        assert!(l1.activations >= 1 && h1.activations >= 1);
        assert!(h1.queue_delay > std::time::Duration::ZERO);
        let m = shardio::metrics();
        assert!(
            m.classes
                .iter()
                .any(|c| c.name == "high" && c.ops == h1.ops.max(c.ops))
        );
        std::fs::remove_file(&path)?;
        Ok(())
    })
}

async fn write(file: &File) -> io::Result<usize> {
    file.write_at(vec![1u8; 4096], 0).await.0
}

#[test]
fn the_class_comes_from_force_then_set_class_then_scope_then_default() -> io::Result<()> {
    let rt = runtime(shardio::Config::new());
    rt.block_on(async {
        let path = temp("which");
        let file = File::create(&path).await?;
        let scoped = PriorityClass::new("scoped", 100);
        let own = PriorityClass::new("own", 100);
        let forced = PriorityClass::new("forced", 100);
        let default = PriorityClass::default_class();

        let d0 = default.stats().ops;
        write(&file).await?;
        assert_eq!(
            default.stats().ops,
            d0 + 1,
            "unnamed work runs in the default class"
        );

        scoped.scope(write(&file)).await?;
        assert_eq!(scoped.stats().ops, 1, "scope");
        assert_eq!(PriorityClass::current(), default, "the scope ended");
        scoped
            .scope(async { assert_eq!(PriorityClass::current(), scoped) })
            .await;

        file.set_class(&own);
        assert_eq!(file.class(), Some(own.clone()));
        scoped.scope(write(&file)).await?;
        assert_eq!(own.stats().ops, 1, "the file's class beats the scope");
        assert_eq!(scoped.stats().ops, 1);

        scoped.scope(forced.force(write(&file))).await?;
        assert_eq!(forced.stats().ops, 1, "force beats the file's class");
        assert_eq!(own.stats().ops, 1);

        // A task spawned inside a scope does not inherit it; `spawn` does.
        scoped
            .scope(async {
                let plain = tokio::spawn(async { PriorityClass::current() });
                assert_eq!(plain.await.unwrap(), PriorityClass::default_class());
                let inside = forced.spawn(async { PriorityClass::current() });
                assert_eq!(inside.await.unwrap(), forced);
            })
            .await;

        // `set_shares` is seen at once.
        own.set_shares(0);
        assert_eq!(own.shares(), 1, "0 shares is taken as 1");
        own.set_shares(250);
        assert_eq!(own.stats().shares, 250);
        std::fs::remove_file(&path)?;
        Ok(())
    })
}

#[test]
fn a_queued_request_dropped_before_dispatch_gives_its_place_back() -> io::Result<()> {
    let rt = runtime(shardio::Config::new().io_inflight_cap(1)?);
    rt.block_on(async {
        let path = temp("cancel");
        let file = Arc::new(File::create(&path).await?);
        let class = PriorityClass::new("c", 100);
        // Many requests race for the single slot; half are dropped while
        // queued (or in flight). If a dropped one kept its slot, the rest
        // would never be dispatched.
        let mut tasks = Vec::new();
        for i in 0..64u64 {
            let file = Arc::clone(&file);
            tasks.push(class.spawn(async move {
                let write = file.write_at(vec![i as u8; 4096], i * 4096);
                if i % 2 == 0 {
                    let mut write = std::pin::pin!(write);
                    // Poll once (queues it), then drop it.
                    let _ = futures::poll!(write.as_mut());
                } else {
                    write.await.0.expect("write");
                }
            }));
        }
        for t in tasks {
            tokio::time::timeout(std::time::Duration::from_secs(30), t)
                .await
                .expect("every request was dispatched")
                .expect("task");
        }
        let (res, _) = file.write_at(vec![9u8; 4096], 0).await;
        res?;
        std::fs::remove_file(&path)?;
        Ok(())
    })
}

#[test]
fn requests_larger_than_the_throttle_takes_are_split_and_recombined() -> io::Result<()> {
    // A slow modelled disk (1000 IOPS, 10 MB/s) and a 1 ms latency goal:
    // the bucket takes at most 1 ms of device time, about 0 bytes after the
    // 1 ms per-request cost... so give it a 5 ms goal: ~40 KB per part.
    let dir = std::env::temp_dir();
    let props = shardio::sched::IoProperties::new().disk(shardio::sched::DiskProperties::new(
        &dir, 1000.0, 10e6, 1000.0, 10e6,
    ));
    let rt = runtime(
        shardio::Config::new()
            .io_properties(props)
            .io_latency_goal(std::time::Duration::from_millis(5))?,
    );
    rt.block_on(async {
        let path = temp("split");
        let file = File::create(&path).await?;
        let class = PriorityClass::new("split", 100);
        file.set_class(&class);
        let data: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
        let (res, _) = file.write_at(data.clone(), 0).await;
        assert_eq!(res?, data.len(), "the parts add up to the whole write");
        let parts = class.stats().ops;
        assert!(parts >= 6, "a 256 KiB write is split into parts: {parts}");
        let (res, back) = file.read_at(Vec::with_capacity(data.len()), 0).await;
        assert_eq!(res?, data.len());
        assert!(back == data, "the bytes read back are the bytes written");
        std::fs::remove_file(&path)?;
        Ok(())
    })
}

#[test]
fn socket_sends_and_receives_are_charged_to_the_socket_class() -> io::Result<()> {
    let rt = runtime(shardio::Config::new());
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let tx = PriorityClass::new("tx", 100);
        let rx = PriorityClass::new("rx", 100);
        let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            s.set_class(&rx);
            let mut buf = vec![0u8; 100_000];
            s.read_exact(&mut buf).await?;
            io::Result::Ok((rx, buf))
        });
        let mut client = shardio::net::TcpStream::connect(addr).await?;
        client.set_class(&tx);
        client.write_all(&vec![7u8; 100_000]).await?;
        client.flush().await?;
        let (rx, buf) = server.await.expect("server")?;
        assert!(buf.iter().all(|&b| b == 7));
        if shardio::metrics().fallback_active {
            return Ok(()); // sockets on epoll are not scheduled
        }
        let (t, r) = (tx.stats(), rx.stats());
        assert_eq!(
            t.bytes, 100_000,
            "every byte sent was charged up front: {t:?}"
        );
        assert_eq!(r.bytes, 100_000, "every byte received was charged: {r:?}");
        assert!(t.consumption > 0.0 && r.consumption > 0.0);
        Ok(())
    })
}

#[test]
fn bad_scheduler_settings_are_errors_that_say_what_to_do() {
    let e = shardio::Config::new()
        .io_properties_yaml(
            "disks:\n  - mountpoint: /\n    read_iops: 1000\n    read_bandwidth: fast\n",
        )
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(
        e.to_string().contains("line 4") && e.to_string().contains("read_bandwidth"),
        "{e}"
    );
    let e = shardio::Config::new()
        .io_properties_file("/nonexistent/io_properties.yaml")
        .unwrap_err();
    assert!(
        e.to_string().contains("/nonexistent/io_properties.yaml"),
        "{e}"
    );
    let e = shardio::Config::new()
        .io_latency_goal(std::time::Duration::ZERO)
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    let e = shardio::Config::new().io_inflight_cap(0).unwrap_err();
    assert!(e.to_string().contains("at least 1"), "{e}");
}

#[test]
fn a_bandwidth_cap_holds_a_class_back_and_lets_it_finish() -> io::Result<()> {
    let rt = runtime(shardio::Config::new());
    rt.block_on(async {
        let path = temp("cap");
        let file = Arc::new(File::create(&path).await?);
        let capped = PriorityClass::new("capped", 100);
        capped.set_bandwidth_limit(Some(1 << 20)); // 1 MiB/s, 64 KiB burst
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for i in 0..8u64 {
            let file = Arc::clone(&file);
            tasks.push(capped.spawn(async move {
                file.write_at(vec![i as u8; 64 * 1024], i * 64 * 1024)
                    .await
                    .0
                    .expect("write")
            }));
        }
        for t in tasks {
            assert_eq!(t.await.expect("task"), 64 * 1024);
        }
        // 512 KiB at 1 MiB/s after a 64 KiB burst: the cap must have held
        // the writes back for at least 0.4 s (a lower bound only: a slow
        // machine takes longer, never shorter).
        let took = started.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(400),
            "the cap let 512 KiB through in {took:?}"
        );
        assert_eq!(capped.stats().bytes, 512 * 1024);
        capped.set_bandwidth_limit(None);
        assert_eq!(capped.bandwidth_limit(), None);
        file.write_at(vec![0u8; 1 << 20], 0).await.0?; // uncapped: no wait
        std::fs::remove_file(&path)?;
        Ok(())
    })
}

#[test]
fn an_accepted_write_left_unflushed_does_not_hold_the_device() -> io::Result<()> {
    // One slot per device: if an accepted but never-again-polled write
    // kept it, every later operation on the device would wait forever.
    let rt = runtime(shardio::Config::new().io_inflight_cap(1)?);
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let class = PriorityClass::new("one-slot", 100);
        let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut idle = shardio::net::TcpStream::connect(addr).await?;
        let (_idle_peer, _) = listener.accept().await?;
        let mut busy = shardio::net::TcpStream::connect(addr).await?;
        let (mut busy_peer, _) = listener.accept().await?;
        idle.set_class(&class);
        busy.set_class(&class);
        idle.write_all(&[1u8; 1000]).await?; // accepted, never flushed
        busy.write_all(&[2u8; 1000]).await?;
        let mut got = [0u8; 1000];
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            busy_peer.read_exact(&mut got),
        )
        .await
        .expect("the second stream's bytes went out")?;
        assert!(got.iter().all(|&b| b == 2));

        let path = temp("unflushed");
        let mut a = File::create(&path).await?;
        a.set_class(&class);
        a.write_all(b"accepted, not flushed").await?;
        let b = File::create(temp("other")).await?;
        b.set_class(&class);
        let res = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            b.write_at(vec![3u8; 4096], 0),
        )
        .await
        .expect("the other file's write was dispatched");
        res.0?;
        a.flush().await?;
        std::fs::remove_file(&path)?;
        Ok(())
    })
}

#[test]
fn datagram_sends_and_receives_are_charged_to_the_socket_class() -> io::Result<()> {
    let rt = runtime(shardio::Config::new());
    rt.block_on(async {
        let tx = PriorityClass::new("udp-tx", 100);
        let rx = PriorityClass::new("udp-rx", 100);
        let a = shardio::net::UdpSocket::bind("127.0.0.1:0").await?;
        let b = shardio::net::UdpSocket::bind("127.0.0.1:0").await?;
        a.set_class(&tx);
        b.set_class(&rx);
        let to = b.local_addr()?;
        for _ in 0..10 {
            a.send_to(&[5u8; 1000], to).await?;
            let mut buf = [0u8; 2000];
            let (n, _) = b.recv_from(&mut buf).await?;
            assert_eq!(n, 1000);
        }
        a.connect(to).await?;
        assert_eq!(a.try_send(&[6u8; 500])?, 500);
        let mut buf = [0u8; 2000];
        b.readable().await?;
        let (n, _) = b.try_recv_from(&mut buf)?;
        assert_eq!(n, 500);

        let (u, v) = shardio::net::UnixDatagram::pair()?;
        u.set_class(&tx);
        v.set_class(&rx);
        u.send(&[7u8; 300]).await?;
        assert_eq!(v.recv(&mut buf).await?, 300);
        if shardio::metrics().fallback_active {
            return Ok(()); // sockets on epoll are not scheduled
        }
        assert_eq!(a.class(), Some(tx.clone()));
        assert_eq!(tx.stats().bytes, 10 * 1000 + 500 + 300, "{:?}", tx.stats());
        assert_eq!(rx.stats().bytes, 10 * 1000 + 500 + 300, "{:?}", rx.stats());
        assert_eq!(tx.stats().ops, 12);
        Ok(())
    })
}

#[test]
fn a_send_larger_than_the_bucket_takes_its_tokens_in_parts_and_completes() -> io::Result<()> {
    // 100 MB/s tx and a 1 ms goal: a 1 MiB send costs ~10 ms of link time,
    // ten times what the bucket holds; it must go through in parts.
    let props = shardio::sched::IoProperties::new()
        .network(shardio::sched::NetProperties::new(1e6, 100e6, 1e6, 100e6));
    let rt = runtime(
        shardio::Config::new()
            .io_properties(props)
            .io_latency_goal(std::time::Duration::from_millis(1))?,
    );
    rt.block_on(async {
        use tokio::io::AsyncReadExt;
        let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            let mut all = Vec::new();
            s.read_to_end(&mut all).await?;
            io::Result::Ok(all.len())
        });
        let client = shardio::net::TcpStream::connect(addr).await?;
        let class = PriorityClass::new("big", 100);
        client.set_class(&class);
        let (res, _) = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            client.write_all_owned(vec![1u8; 1 << 20]),
        )
        .await
        .expect("the large send was dispatched");
        res?;
        drop(client);
        assert_eq!(reader.await.expect("reader")?, 1 << 20);
        if !shardio::metrics().fallback_active {
            assert_eq!(class.stats().bytes, 1 << 20);
        }
        Ok(())
    })
}

#[test]
fn an_abandoned_read_does_not_hold_the_device() -> io::Result<()> {
    let rt = runtime(shardio::Config::new().io_inflight_cap(1)?);
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let class = PriorityClass::new("one-slot-rx", 100);
        let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut a = shardio::net::TcpStream::connect(addr).await?;
        let (mut a_peer, _) = listener.accept().await?;
        let mut b = shardio::net::TcpStream::connect(addr).await?;
        let (mut b_peer, _) = listener.accept().await?;
        for s in [&a, &a_peer, &b, &b_peer] {
            s.set_class(&class);
        }
        // Data arrives for `a_peer`, whose reader gives up right away and
        // never reads again.
        a.write_all(b"unread").await?;
        let mut buf = [0u8; 64];
        let _ = tokio::time::timeout(std::time::Duration::ZERO, a_peer.read(&mut buf)).await;
        // Another connection still moves data both ways.
        for _ in 0..100 {
            b.write_all(b"ping").await?;
            let mut got = [0u8; 4];
            tokio::time::timeout(
                std::time::Duration::from_secs(30),
                b_peer.read_exact(&mut got),
            )
            .await
            .expect("the other connection's bytes were delivered")?;
            assert_eq!(&got, b"ping");
        }
        Ok(())
    })
}

/// A permit held until the operation is done (`Hold::UntilDone`) must stay
/// taken while the kernel still runs the operation, even once its future
/// was dropped: otherwise the device counts as idle while it is not. Here
/// the network's only slot (`io_inflight_cap(1)`) is taken by a large send
/// to a peer that never reads, whose future is then dropped; on a
/// current-thread runtime nothing runs between the drop and the next
/// request, so the next request must wait until the kernel has let go of
/// the first (its cancellation completes). (Fails if the permit is dropped
/// with the future: the second send is then dispatched at once.)
#[test]
fn a_send_dropped_in_flight_keeps_its_slot_until_the_kernel_is_done() -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(shardio::Config::new().io_inflight_cap(1)?)
        .build()?;
    rt.block_on(async {
        use std::task::Poll;
        use tokio::io::AsyncReadExt;

        let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stalled = shardio::net::TcpStream::connect(addr).await?;
        let (_never_reads, _) = listener.accept().await?;
        let other = shardio::net::TcpStream::connect(addr).await?;
        let (mut other_peer, _) = listener.accept().await?;
        if shardio::metrics().fallback_active {
            // Sockets on the epoll fallback are not scheduled: nothing to hold.
            return Ok(());
        }
        let class = PriorityClass::new("one-slot-tx", 100);
        stalled.set_class(&class);
        other.set_class(&class);

        // Let the ring's reaper task start, so submissions are deferred to
        // it rather than made at once (which would also finish the cancel
        // below before the next request is made).
        tokio::task::yield_now().await;
        // More than the socket buffers take: the send stays in the kernel.
        // Boxed, so that `drop` drops the future itself.
        let mut big = Box::pin(stalled.write_all_owned(vec![7u8; 64 << 20]));
        assert!(futures::poll!(big.as_mut()).is_pending());
        assert_eq!(class.stats().ops, 1, "the big send was dispatched");
        drop(big);

        let mut small = std::pin::pin!(other.write_all_owned(b"after".to_vec()));
        match futures::poll!(small.as_mut()) {
            Poll::Pending => {}
            Poll::Ready((res, _)) => panic!("the second send did not wait: {res:?}"),
        }
        assert_eq!(
            class.stats().ops,
            1,
            "the dropped send still holds the only slot, so this one waits"
        );
        let (res, _) = tokio::time::timeout(std::time::Duration::from_secs(30), small)
            .await
            .expect("dispatched once the kernel let go of the dropped send");
        res?;
        assert_eq!(class.stats().ops, 2);
        let mut got = [0u8; 5];
        other_peer.read_exact(&mut got).await?;
        assert_eq!(&got, b"after");
        Ok(())
    })
}

#[test]
fn each_interface_is_a_device_and_classes_keep_latency_histograms() -> io::Result<()> {
    let rt = runtime(shardio::Config::new());
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let class = PriorityClass::new("histograms", 100);
        let before = class.stats();
        let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            let mut buf = vec![0u8; 64];
            for _ in 0..50 {
                s.read_exact(&mut buf).await?;
                s.write_all(&buf).await?;
            }
            io::Result::Ok(())
        });
        let mut client = shardio::net::TcpStream::connect(addr).await?;
        client.set_class(&class);
        let mut buf = [0u8; 64];
        for _ in 0..50 {
            client.write_all(&[1u8; 64]).await?;
            client.read_exact(&mut buf).await?;
        }
        server.await.expect("server")?;
        let path = temp("histograms");
        let file = File::create(&path).await?;
        file.set_class(&class);
        for i in 0..20u64 {
            let (res, _) = file.write_all_at(vec![3u8; 4096], i * 4096).await;
            res?;
        }
        std::fs::remove_file(&path)?;
        if shardio::metrics().fallback_active {
            return Ok(()); // sockets on epoll are not scheduled
        }
        let stats = class.stats();
        let sent = stats
            .queue_delay_histogram
            .since(&before.queue_delay_histogram);
        assert!(
            sent.count() >= 70,
            "50 sends, 50 receives, 20 writes: {stats:?}"
        );
        let device = stats
            .device_time_histogram
            .since(&before.device_time_histogram);
        assert_eq!(
            device.count(),
            20,
            "only the file writes are awaited to completion"
        );
        let latency = stats.latency_histogram.since(&before.latency_histogram);
        assert_eq!(latency.count(), sent.count(), "one latency per operation");
        assert!(latency.p99() >= latency.p50() && latency.p999() >= latency.p99());
        let names: Vec<String> = shardio::metrics()
            .devices
            .into_iter()
            .map(|d| d.name)
            .collect();
        for want in ["net lo tx", "net lo rx"] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
        assert!(names.iter().any(|n| n.starts_with("disk ")), "{names:?}");
        Ok(())
    })
}
