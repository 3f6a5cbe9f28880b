//! The fallback under a real seccomp filter: a child process (this test
//! binary, re-run) installs a filter that answers `io_uring_setup` with
//! ENOSYS or EPERM, as container runtimes' profiles do, then runs sockets
//! and files through shardio. They must work (on Tokio's epoll types and
//! blocking pool), and `metrics().fallback_reason` must name the filter:
//! ENOSYS on a kernel that has io_uring is told apart from a kernel
//! without it. (`.ci/run` also runs the whole suite under the filter with
//! `shardio-testnet`'s `no-io-uring` runner.)

use std::io;
use std::process::Command;

use shardio::FallbackReason;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHILD: &str = "SHARDIO_SECCOMP_CHILD_ERRNO";

#[test]
fn enosys_from_a_filter_is_told_apart_from_a_kernel_without_io_uring() {
    let Some(out) = run_child("ENOSYS") else {
        return;
    };
    assert!(
        out.contains("FilteredOrNotBuilt"),
        "the reason names the filter, not an old kernel:\n{out}"
    );
}

#[test]
fn eperm_from_a_filter_is_reported_as_seccomp() {
    let Some(out) = run_child("EPERM") else {
        return;
    };
    assert!(out.contains("Seccomp"), "{out}");
}

/// Re-runs this binary's `child` test under the filter; its output
/// (`None`, said, where the filter is not written: not x86_64).
fn run_child(errno: &str) -> Option<String> {
    if !cfg!(target_arch = "x86_64") {
        eprintln!("skipped: the filter is written for x86_64");
        return None;
    }
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, errno)
        .env_remove("SHARDIO_FORCE_FALLBACK")
        .output()
        .expect("run the child");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the child failed:\n{text}");
    assert!(
        text.contains("child ran"),
        "the child test did not run:\n{text}"
    );
    Some(text)
}

/// The child: only does something when a parent test asked for it.
#[test]
fn child() {
    let Ok(errno) = std::env::var(CHILD) else {
        return;
    };
    let code = match errno.as_str() {
        "ENOSYS" => libc::ENOSYS,
        _ => libc::EPERM,
    };
    shardio_testnet::block_io_uring_setup(code).expect("install the seccomp filter");
    let rt = {
        use shardio::BuilderExt;
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_all().shardio(shardio::Config::default());
        builder.build().expect("runtime")
    };
    rt.block_on(async {
        // Sockets: an echo through shardio's types.
        let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await?;
            s.write_all(&buf).await?;
            io::Result::Ok(())
        });
        let mut c = shardio::net::TcpStream::connect(addr).await?;
        c.write_all(b"hello").await?;
        let mut back = [0u8; 5];
        c.read_exact(&mut back).await?;
        assert_eq!(&back, b"hello");
        server.await.expect("server task")?;
        // Files: a round trip through shardio::fs.
        let path = std::env::temp_dir().join(format!("shardio-seccomp-{}", std::process::id()));
        shardio::fs::write(&path, b"data").await?;
        assert_eq!(shardio::fs::read(&path).await?, b"data");
        shardio::fs::remove_file(&path).await?;
        io::Result::Ok(())
    })
    .expect("sockets and files work on the fallback");
    let m = shardio::metrics();
    assert!(m.fallback_active, "io_uring_setup is blocked");
    let reason = m.fallback_reason.expect("a reason");
    match (&reason, code) {
        (FallbackReason::FilteredOrNotBuilt(_), libc::ENOSYS) | (FallbackReason::Seccomp, _) => {}
        _ => panic!("unexpected reason {reason:?} for {errno}"),
    }
    println!("child ran: {reason:?}: {reason}");
}
