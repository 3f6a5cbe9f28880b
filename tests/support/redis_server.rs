//! A `redis-server` child process on a free loopback port, for
//! `tests/redis.rs` and `benches/redis.rs` (included by both with `#[path]`).
//! It persists nothing, and it is killed when the guard drops.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian package that has the binary (`.ci/run` installs it).
pub(crate) const PACKAGE: &str = "redis-server";

/// A running `redis-server`; dropping it kills the process.
#[derive(Debug)]
pub(crate) struct RedisServer {
    child: Child,
    /// Where it listens (127.0.0.1 and a port that was free).
    pub(crate) addr: SocketAddr,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts a server and waits until it accepts connections.
    ///
    /// `Ok(None)` when `redis-server` is not on `PATH` and this is not CI
    /// (the caller skips, after this printed why); in CI (`CI` set) a
    /// missing binary is an error naming the package.
    pub(crate) fn start() -> io::Result<Option<RedisServer>> {
        match Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let why = format!(
                    "redis-server is not on PATH: install Debian's `{PACKAGE}` package \
                     (apt-get install -y {PACKAGE}); .ci/run does"
                );
                if std::env::var_os("CI").is_some() {
                    return Err(io::Error::new(io::ErrorKind::NotFound, why));
                }
                eprintln!("skipped: {why}");
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        // A port that was free a moment ago may be taken before the server
        // binds it: then the server exits and the next try takes another.
        let mut last = None;
        for _ in 0..5 {
            match Self::try_start() {
                Ok(server) => return Ok(Some(server)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("tried at least once"))
    }

    fn try_start() -> io::Result<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let dir = std::env::temp_dir().join(format!("shardio-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let log = dir.join("redis.log");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let mut server = RedisServer { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(io::Error::other(format!(
                    "redis-server on port {port} exited with {status}: {}",
                    log.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
                )));
            }
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("redis-server did not accept on {addr} within 10 s"),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
