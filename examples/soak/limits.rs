//! The fd limit: each process holds one end of every connection.

use std::io;

/// Raises `RLIMIT_NOFILE` to `needed` if it is lower (the hard limit too,
/// which needs `CAP_SYS_RESOURCE`).
pub(crate) fn raise_fd_limit(needed: u64, conns: usize) -> Result<(), String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(format!(
            "getrlimit(RLIMIT_NOFILE): {}",
            io::Error::last_os_error()
        ));
    }
    if lim.rlim_cur >= needed {
        return Ok(());
    }
    let raised = libc::rlimit {
        rlim_cur: needed,
        rlim_max: lim.rlim_max.max(needed),
    };
    // SAFETY: setrlimit only reads the struct passed.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        let fit = lim.rlim_max.saturating_sub(needed - conns as u64);
        return Err(format!(
            "{conns} connections need {needed} fds in each process, and RLIMIT_NOFILE is {} \
             (hard limit {}); raising it failed: {}. Raise the hard limit (`ulimit -Hn \
             {needed}` as root, or in limits.conf) or pass --conns {fit}",
            lim.rlim_cur,
            lim.rlim_max,
            io::Error::last_os_error()
        ));
    }
    Ok(())
}
