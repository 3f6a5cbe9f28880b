//! The client side's handle on the server child: started from this same
//! binary with `--server`, its addresses read from its first line, its RSS
//! and fds read from /proc, and its exit status judged at the end.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct ServerProcess {
    child: Child,
    /// Closed to tell the server to finish.
    stdin: Option<ChildStdin>,
    pub(crate) addrs: Vec<SocketAddr>,
}

impl ServerProcess {
    pub(crate) fn start(workers: usize, conns: usize) -> io::Result<ServerProcess> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--server", "--workers", &workers.to_string()])
            .args(["--conns", &conns.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout).read_line(&mut line)?;
        let addrs = line
            .strip_prefix("listening ")
            .map(|rest| rest.split_whitespace().map(str::parse).collect())
            .transpose()
            .ok()
            .flatten()
            .filter(|addrs: &Vec<SocketAddr>| !addrs.is_empty());
        let Some(addrs) = addrs else {
            let _ = child.kill();
            return Err(io::Error::other(format!(
                "the server child did not say where it listens (it printed {line:?}; \
                 its errors are above)"
            )));
        };
        Ok(ServerProcess {
            child,
            stdin,
            addrs,
        })
    }

    fn proc_file(&self, name: &str) -> String {
        format!("/proc/{}/{name}", self.child.id())
    }

    pub(crate) fn rss(&self) -> u64 {
        crate::report::rss_of(&self.proc_file("status"))
    }

    pub(crate) fn fds(&self) -> u64 {
        crate::report::fds_of(&self.proc_file("fd"))
    }

    /// Closes the server's input and waits (at most `limit`) for it to
    /// exit; an error says what went wrong.
    pub(crate) fn finish(mut self, limit: Duration) -> Result<(), String> {
        drop(self.stdin.take());
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!("the server child failed ({status}; see above)"));
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    return Err(format!(
                        "the server child had not exited {limit:?} after the run"
                    ));
                }
                Err(e) => return Err(format!("waiting for the server child: {e}")),
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Ended already by `finish`, or the run is failing: never leave it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
