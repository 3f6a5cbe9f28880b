//! CPU sets in the kernel's list syntax (`"3"`, `"2-3"`, `"0,2,4-5"`).

use std::fmt;
use std::io;

/// A non-empty set of CPUs that exist on this machine.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct CpuSet {
    cpus: Vec<usize>,
}

impl CpuSet {
    /// Parses `list` and checks every CPU is online. `what` names the option
    /// in error messages.
    pub(crate) fn parse(list: &str, what: &str) -> io::Result<CpuSet> {
        let online = online_cpus();
        Self::parse_against(list, what, online.as_deref())
    }

    fn parse_against(list: &str, what: &str, online: Option<&[usize]>) -> io::Result<CpuSet> {
        let invalid = |detail: String| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("shardio: {what}({list:?}) is not a valid CPU set: {detail}"),
            )
        };
        let mut cpus = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (lo, hi) = match part.split_once('-') {
                Some((lo, hi)) => (lo.trim(), hi.trim()),
                None => (part, part),
            };
            let parse = |s: &str| {
                s.parse::<usize>().map_err(|_| {
                    invalid(format!(
                        "{part:?} is not a CPU number or a range like \"2-3\""
                    ))
                })
            };
            let (lo, hi) = (parse(lo)?, parse(hi)?);
            if lo > hi {
                return Err(invalid(format!("the range {part:?} is reversed")));
            }
            if hi >= libc::CPU_SETSIZE as usize {
                return Err(invalid(format!(
                    "CPU {hi} is beyond the kernel's CPU_SETSIZE"
                )));
            }
            cpus.extend(lo..=hi);
        }
        cpus.sort_unstable();
        cpus.dedup();
        if cpus.is_empty() {
            return Err(invalid(
                "the set is empty; name at least one CPU, e.g. \"1\" or \"2-3\"".into(),
            ));
        }
        if let Some(online) = online {
            if let Some(missing) = cpus.iter().find(|c| !online.contains(c)) {
                return Err(invalid(format!(
                    "CPU {missing} does not exist or is offline; online CPUs: {}",
                    CpuSet {
                        cpus: online.to_vec()
                    }
                )));
            }
        }
        Ok(CpuSet { cpus })
    }

    pub(crate) fn cpus(&self) -> &[usize] {
        &self.cpus
    }

    pub(crate) fn len(&self) -> usize {
        self.cpus.len()
    }

    /// CPUs in both sets.
    pub(crate) fn intersection(&self, other: &CpuSet) -> Vec<usize> {
        self.cpus
            .iter()
            .copied()
            .filter(|c| other.cpus.contains(c))
            .collect()
    }

    /// The set as the kernel's `cpu_set_t`.
    pub(crate) fn to_libc(&self) -> libc::cpu_set_t {
        cpu_set_of(&self.cpus)
    }

    /// Pins the calling thread to this set.
    pub(crate) fn pin_current_thread(&self) -> io::Result<()> {
        let set = self.to_libc();
        // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the
        // calling thread.
        let ret = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
        if ret == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

/// A `cpu_set_t` holding `cpus` (each below `CPU_SETSIZE`).
pub(crate) fn cpu_set_of(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is a plain bit array; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: CPU_SET writes bit `cpu` of `set`; callers only pass CPUs
        // below CPU_SETSIZE (checked when parsing), so the bit is in range.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    set
}

/// The online CPUs, from sysfs; `None` if it cannot be read.
fn online_cpus() -> Option<Vec<usize>> {
    let list = std::fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
    CpuSet::parse_against(list.trim(), "online", None)
        .ok()
        .map(|s| s.cpus)
}

impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut i = 0;
        while i < self.cpus.len() {
            let start = self.cpus[i];
            let mut end = start;
            while i + 1 < self.cpus.len() && self.cpus[i + 1] == end + 1 {
                i += 1;
                end += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
            i += 1;
        }
        Ok(())
    }
}

impl fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CpuSet({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONLINE: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 7];

    fn parse(list: &str) -> io::Result<CpuSet> {
        CpuSet::parse_against(list, "async_workers", Some(ONLINE))
    }

    #[test]
    fn parses_the_kernel_list_syntax() {
        assert_eq!(parse("3").unwrap().cpus(), &[3]);
        assert_eq!(parse("2-3").unwrap().cpus(), &[2, 3]);
        assert_eq!(parse("0,2,4-5").unwrap().cpus(), &[0, 2, 4, 5]);
        assert_eq!(parse(" 5 , 1-2,2 ").unwrap().cpus(), &[1, 2, 5]);
        assert_eq!(parse("0,2,4-5").unwrap().to_string(), "0,2,4-5");
        assert_eq!(parse("0-3,5").unwrap().to_string(), "0-3,5");
    }

    #[test]
    fn rejects_bad_sets_with_a_message_naming_the_problem() {
        for (list, needle) in [
            ("", "empty"),
            (" , ", "empty"),
            ("8", "does not exist"),
            ("3-1", "reversed"),
            ("a", "not a CPU number"),
            ("1-", "not a CPU number"),
            ("99999", "CPU_SETSIZE"),
        ] {
            let err = parse(list).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{list:?}");
            let msg = err.to_string();
            assert!(msg.contains(needle), "{list:?}: {msg}");
            assert!(msg.contains("async_workers"), "{list:?}: {msg}");
        }
    }
}
