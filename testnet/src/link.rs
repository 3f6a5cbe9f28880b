//! The shaped link between two network namespaces.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

/// How the link is shaped, in each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The token bucket's rate, in Mbit/s.
    pub rate_mbit: u32,
    /// A netem delay in front of the bucket, in µs (`None`: no delay).
    pub delay_us: Option<u32>,
}

impl Shape {
    /// A token bucket at `rate_mbit` Mbit/s, no added delay.
    pub fn rate_mbit(rate_mbit: u32) -> Shape {
        Shape {
            rate_mbit,
            delay_us: None,
        }
    }

    /// The same, behind a netem delay of `delay_us` µs in each direction.
    pub fn with_delay_us(self, delay_us: u32) -> Shape {
        Shape {
            delay_us: Some(delay_us),
            ..self
        }
    }
}

/// One of the link's two namespaces.
#[derive(Debug, Clone)]
pub struct Namespace {
    name: String,
    addr: Ipv4Addr,
    iface: String,
}

impl Namespace {
    /// This end's address on the link.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// This end's interface on the link, as `ip link` shows it inside the
    /// namespace.
    pub fn interface(&self) -> &str {
        &self.iface
    }

    /// The namespace's name (`ip netns` lists it while the link lives).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Moves the calling thread into this namespace: sockets it creates
    /// from now on live there. Threads it spawns inherit it.
    pub fn enter(&self) -> io::Result<()> {
        let file = std::fs::File::open(format!("/run/netns/{}", self.name))?;
        // SAFETY: setns(2) on an fd we hold open; it only changes this
        // thread's network namespace.
        if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Runs `f` on a new thread inside this namespace.
    pub fn spawn<T, F>(&self, f: F) -> JoinHandle<io::Result<T>>
    where
        F: FnOnce() -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let ns = self.clone();
        std::thread::spawn(move || {
            ns.enter()?;
            f()
        })
    }
}

/// Two network namespaces, `a` (10.77.0.1) and `b` (10.77.0.2), joined by a
/// veth pair shaped with `tc` on both ends; removed on drop.
#[derive(Debug)]
pub struct ShapedLink {
    a: Namespace,
    b: Namespace,
    shape: Shape,
}

static WHY_NOT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

impl ShapedLink {
    /// Builds the link; `Ok(None)` when this machine cannot (not root, no
    /// iproute2, a kernel without the qdisc, e.g. netem;
    /// [`unavailable`](Self::unavailable) says which), an error when it
    /// could but a step failed.
    pub fn new(shape: Shape) -> io::Result<Option<ShapedLink>> {
        if let Some(why) = cannot() {
            *WHY_NOT.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            return Ok(None);
        }
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(sweep);
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // The creator's pid, then `-`, so that `sweep` can tell whose it is.
        let tag = format!("{:x}-{n}", std::process::id());
        // Interface names are at most 15 bytes.
        let (va, vb) = (format!("v{tag}a"), format!("v{tag}b"));
        let link = ShapedLink {
            a: Namespace {
                name: format!("shdio{tag}a"),
                addr: Ipv4Addr::new(10, 77, 0, 1),
                iface: va.clone(),
            },
            b: Namespace {
                name: format!("shdio{tag}b"),
                addr: Ipv4Addr::new(10, 77, 0, 2),
                iface: vb.clone(),
            },
            shape,
        };
        run("ip", &["netns", "add", &link.a.name])?;
        // From here on, drop removes what exists.
        run("ip", &["netns", "add", &link.b.name])?;
        run(
            "ip",
            &[
                "link",
                "add",
                &va,
                "netns",
                &link.a.name,
                "type",
                "veth",
                "peer",
                "name",
                &vb,
                "netns",
                &link.b.name,
            ],
        )?;
        for (ns, dev) in [(&link.a, &va), (&link.b, &vb)] {
            let cidr = format!("{}/24", ns.addr);
            run("ip", &["-n", &ns.name, "addr", "add", &cidr, "dev", dev])?;
            run("ip", &["-n", &ns.name, "link", "set", dev, "up"])?;
            run("ip", &["-n", &ns.name, "link", "set", "lo", "up"])?;
            match shape_dev(&ns.name, dev, shape) {
                Ok(()) => {}
                // The kernel lacks the qdisc (e.g. no CONFIG_NET_SCH_NETEM).
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    *WHY_NOT.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Some(link))
    }

    /// Why the last [`new`](Self::new) returned `None`.
    pub fn unavailable() -> Option<String> {
        WHY_NOT.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The first namespace (10.77.0.1).
    pub fn a(&self) -> &Namespace {
        &self.a
    }

    /// The second namespace (10.77.0.2).
    pub fn b(&self) -> &Namespace {
        &self.b
    }

    /// How the link is shaped.
    pub fn shape(&self) -> Shape {
        self.shape
    }
}

impl Drop for ShapedLink {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth pair, and with
        // it the other end.
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", &ns.name]).status();
        }
    }
}

/// The token bucket, behind netem when there is a delay.
fn shape_dev(ns: &str, dev: &str, shape: Shape) -> io::Result<()> {
    let rate = format!("{}mbit", shape.rate_mbit);
    // A burst of at least one MTU and ~1 ms at the rate, as tbf needs.
    let burst = format!("{}kb", (shape.rate_mbit / 8).max(16));
    let tbf = [
        "rate",
        rate.as_str(),
        "burst",
        burst.as_str(),
        "latency",
        "50ms",
    ];
    let mut args = vec!["-n", ns, "qdisc", "add", "dev", dev];
    match shape.delay_us {
        None => {
            args.extend(["root", "tbf"]);
            args.extend(tbf);
            run("tc", &args)
        }
        Some(us) => {
            let delay = format!("{us}us");
            let mut netem = args.clone();
            netem.extend(["root", "handle", "1:", "netem", "delay", delay.as_str()]);
            run("tc", &netem)?;
            args.extend(["parent", "1:", "handle", "2:", "tbf"]);
            args.extend(tbf);
            run("tc", &args)
        }
    }
}

/// Deletes the namespaces of links whose process is gone: a test killed
/// (SIGKILL, a timeout) never runs `Drop`, and its namespaces would stay
/// until reboot, each holding a veth pair.
fn sweep() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        if let Some(pid) = owner_pid(name) {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("ip").args(["netns", "del", name]).status();
            }
        }
    }
}

/// The pid of the process that made namespace `name` (`shdio<pid hex>-<n>a`
/// or `b`), if it is one of ours.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("shdio")?;
    let (pid, n) = rest.split_once('-')?;
    let n = n.strip_suffix('a').or_else(|| n.strip_suffix('b'))?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    u32::from_str_radix(pid, 16).ok()
}

/// Why this machine cannot build a link, if it cannot.
fn cannot() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: network namespaces and tc need CAP_NET_ADMIN".into());
    }
    for tool in ["ip", "tc"] {
        if Command::new(tool).arg("-V").output().is_err() {
            return Some(format!("`{tool}` not found: install iproute2"));
        }
    }
    None
}

fn run(cmd: &str, args: &[&str]) -> io::Result<()> {
    let out = Command::new(cmd).args(args).output()?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kind = if stderr.contains("qdisc kind is unknown") {
        io::ErrorKind::Unsupported
    } else {
        io::ErrorKind::Other
    };
    Err(io::Error::new(
        kind,
        format!("`{cmd} {}` failed: {}", args.join(" "), stderr.trim()),
    ))
}

#[cfg(test)]
mod tests {
    use super::owner_pid;

    #[test]
    fn a_namespace_name_tells_its_creator() {
        assert_eq!(owner_pid("shdio1a2b-3a"), Some(0x1a2b));
        assert_eq!(owner_pid("shdio1a2b-12b"), Some(0x1a2b));
        for other in [
            "shdio1a2b3a",
            "shdio1a2b-a",
            "shdio-3a",
            "shdio1a2b-3c",
            "netns1",
            "",
        ] {
            assert_eq!(owner_pid(other), None, "{other}");
        }
    }
}
