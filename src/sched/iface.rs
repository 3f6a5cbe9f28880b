//! Which network interface a socket's traffic goes through, so each
//! interface is a device of its own: found from the socket's local address
//! (the address the kernel chose by its routes, or the one it was bound
//! to), matched against the addresses of the interfaces (`getifaddrs`).

use std::collections::HashMap;
use std::ffi::CStr;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};

use crate::sync::Mutex;

/// The device name of Unix sockets: local IPC, not a link.
pub(crate) const UNIX: &str = "unix";
/// Sockets whose interface is not known yet (bound to no address, e.g. an
/// unconnected UDP socket on 0.0.0.0) or not found.
pub(crate) const ANY: &str = "any";

/// Interfaces by address, refreshed when an address is not in it.
static BY_ADDR: Mutex<Option<HashMap<IpAddr, String>>> = Mutex::new(None);

/// The network interface shardio schedules `socket`'s traffic on (its
/// devices are `net <interface> tx` and `rx`, see
/// [`DeviceStats`](super::DeviceStats)): what the `interface:` key of an
/// io_properties file's `network:` section names. Found from the socket's
/// local address (for a connected socket, the one its route chose): `lo`
/// for loopback, `unix` for Unix sockets, `any` for a socket bound to no
/// address or to an address on no interface.
pub fn interface_of(socket: &impl AsFd) -> String {
    of(socket.as_fd())
}

/// The interface of the socket `fd`.
pub(crate) fn of(fd: BorrowedFd<'_>) -> String {
    let Ok(local) = socket2::SockRef::from(&fd).local_addr() else {
        return ANY.to_owned();
    };
    let Some(addr) = local.as_socket() else {
        return UNIX.to_owned();
    };
    let ip = match addr.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    if ip.is_unspecified() {
        return ANY.to_owned();
    }
    if let Some(name) = lookup(ip) {
        return name;
    }
    if ip.is_loopback() {
        // 127.0.0.0/8 is all on the loopback interface, whichever address.
        return "lo".to_owned();
    }
    ANY.to_owned()
}

fn lookup(ip: IpAddr) -> Option<String> {
    let mut table = BY_ADDR.lock();
    if let Some(name) = table.as_ref().and_then(|t| t.get(&ip)) {
        return Some(name.clone());
    }
    // A new address (an interface came up, or the table was never read).
    let fresh = addresses().ok()?;
    let name = fresh.get(&ip).cloned();
    *table = Some(fresh);
    name
}

/// Every interface address of the calling thread's network namespace.
fn addresses() -> std::io::Result<HashMap<IpAddr, String>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `head` is a valid out-pointer; on success the list is freed
    // below with freeifaddrs, once.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut found = HashMap::new();
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs returned,
        // alive until freeifaddrs below.
        let entry = unsafe { &*cursor };
        cursor = entry.ifa_next;
        if entry.ifa_addr.is_null() || entry.ifa_name.is_null() {
            continue;
        }
        // SAFETY: a non-null `ifa_addr` points at a sockaddr whose family
        // says its size; we read the family first and then only the
        // matching struct.
        let ip = unsafe {
            match i32::from((*entry.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let sin = &*entry.ifa_addr.cast::<libc::sockaddr_in>();
                    IpAddr::from(sin.sin_addr.s_addr.to_ne_bytes())
                }
                libc::AF_INET6 => {
                    let sin6 = &*entry.ifa_addr.cast::<libc::sockaddr_in6>();
                    IpAddr::from(sin6.sin6_addr.s6_addr)
                }
                _ => continue,
            }
        };
        // SAFETY: `ifa_name` is a NUL-terminated string of the list.
        let name = unsafe { CStr::from_ptr(entry.ifa_name) };
        found.insert(ip, name.to_string_lossy().into_owned());
    }
    // SAFETY: `head` came from getifaddrs and is freed once; no reference
    // into the list outlives this call.
    unsafe { libc::freeifaddrs(head) };
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    #[test]
    fn loopback_unix_and_unbound_sockets() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(super::of(udp.as_fd()), "lo");
        let any = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        assert_eq!(super::of(any.as_fd()), super::ANY);
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(super::of(a.as_fd()), super::UNIX);
    }
}
