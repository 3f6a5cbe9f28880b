//! Why io_uring is not used, and the one warning that says so.

use std::fmt;
use std::io;
use std::sync::Once;

/// Why shardio runs operations on the fallback path instead of io_uring, as
/// reported by [`Metrics::fallback_reason`](crate::Metrics::fallback_reason).
///
/// Its `Display` names the cause and the fix, as the one warning shardio
/// logs does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FallbackReason {
    /// `SHARDIO_FORCE_FALLBACK=1` in the environment.
    ForcedByEnv,
    /// `Config::force_fallback(true)` for this runtime.
    ForcedByConfig,
    /// `io_uring_setup` is not implemented (kernel older than 5.1 or built without io_uring).
    NotImplemented,
    /// `io_uring_setup` returned ENOSYS on a kernel whose version has
    /// io_uring (the release is kept): a seccomp filter answering ENOSYS
    /// (as container runtimes' and systemd's filters do), or a kernel built
    /// without `CONFIG_IO_URING`.
    FilteredOrNotBuilt(String),
    /// `kernel.io_uring_disabled` is 2, or 1 and this process is not in `io_uring_group`.
    DisabledBySysctl(u8),
    /// `io_uring_setup` returned EPERM for another reason: a seccomp filter (Docker's default profile).
    Seccomp,
    /// The rings' memory could not be locked (RLIMIT_MEMLOCK on kernels before 5.12).
    MemLock,
    /// Another error from `io_uring_setup` or ring registration.
    Other(String),
}

impl FallbackReason {
    /// Classifies the error of `io_uring_setup`.
    pub(crate) fn from_setup_error(err: &io::Error) -> Self {
        match err.raw_os_error() {
            Some(libc::ENOSYS) => match kernel_release() {
                Some(release) if has_io_uring(&release) => {
                    FallbackReason::FilteredOrNotBuilt(release)
                }
                _ => FallbackReason::NotImplemented,
            },
            Some(libc::EPERM) | Some(libc::EACCES) => match io_uring_disabled_sysctl() {
                Some(level) if level > 0 => FallbackReason::DisabledBySysctl(level),
                _ => FallbackReason::Seccomp,
            },
            Some(libc::ENOMEM) => FallbackReason::MemLock,
            _ => FallbackReason::Other(err.to_string()),
        }
    }

    /// Logs the single process-wide warning about the fallback path.
    pub(crate) fn warn_once(&self) {
        static WARNED: Once = Once::new();
        WARNED.call_once(|| {
            tracing::warn!(target: "shardio::driver", "{self}");
        });
    }
}

/// The running kernel's release (`uname -r`).
fn kernel_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|r| r.trim().to_owned())
}

/// Whether a kernel of this release has io_uring as shardio needs it (5.6).
fn has_io_uring(release: &str) -> bool {
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    match (numbers.next(), numbers.next()) {
        (Some(major), Some(minor)) => (major, minor) >= (5, 6),
        _ => false,
    }
}

fn io_uring_disabled_sysctl() -> Option<u8> {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DID: &str = "shardio runs sockets on Tokio's epoll types and file operations on \
                           Tokio's blocking pool instead";
        match self {
            FallbackReason::ForcedByEnv => write!(
                f,
                "io_uring fallback forced by SHARDIO_FORCE_FALLBACK=1; {DID}; unset the variable to use io_uring"
            ),
            FallbackReason::ForcedByConfig => write!(
                f,
                "io_uring fallback forced by Config::force_fallback(true); {DID}"
            ),
            FallbackReason::NotImplemented => write!(
                f,
                "io_uring is not available: io_uring_setup returned ENOSYS (kernel older than 5.6 \
                 or built without CONFIG_IO_URING); {DID}; run on Linux 5.6 or newer to use io_uring"
            ),
            FallbackReason::FilteredOrNotBuilt(release) => write!(
                f,
                "io_uring is blocked: io_uring_setup returned ENOSYS, but Linux {release} has \
                 io_uring, so a seccomp filter answers ENOSYS for it (the default profiles of \
                 container runtimes, systemd's SystemCallFilter=) or the kernel was built without \
                 CONFIG_IO_URING; {DID}; allow io_uring_setup, io_uring_enter and \
                 io_uring_register in the filter to use io_uring"
            ),
            FallbackReason::DisabledBySysctl(level) => write!(
                f,
                "io_uring is disabled by the sysctl kernel.io_uring_disabled={level}; {DID}; \
                 set it to 0 (or to 1 and add this process to kernel.io_uring_group) to use io_uring"
            ),
            FallbackReason::Seccomp => write!(
                f,
                "io_uring is blocked: io_uring_setup returned EPERM, most likely from a seccomp \
                 filter (Docker's default profile blocks io_uring); {DID}; run with a seccomp \
                 profile that allows io_uring_setup, io_uring_enter and io_uring_register"
            ),
            FallbackReason::MemLock => write!(
                f,
                "io_uring ring memory could not be allocated: io_uring_setup returned ENOMEM, \
                 usually RLIMIT_MEMLOCK on kernels before 5.12; {DID}; raise the limit \
                 (ulimit -l) or use a newer kernel"
            ),
            FallbackReason::Other(e) => write!(f, "io_uring could not be set up ({e}); {DID}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_io_uring;

    #[test]
    fn kernels_from_5_6_have_io_uring() {
        assert!(has_io_uring("6.18.44-fc-v1300"));
        assert!(has_io_uring("5.6.0"));
        assert!(has_io_uring("5.15.0-91-generic"));
        assert!(!has_io_uring("5.4.0-150-generic"));
        assert!(!has_io_uring("4.19.0"));
        assert!(!has_io_uring("garbage"));
    }
}
