//! The "real user" of `AsyncFd`: sockets driven with `sendmsg`/`recvmsg`
//! and control messages through `async_io`, the calls quinn-udp makes (GSO
//! with `UDP_SEGMENT`, GRO with `UDP_GRO`, the destination address with
//! `IP_PKTINFO`), and fd passing with `SCM_RIGHTS`.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use shardio::io::Interest;

use super::{cvt, pipe, read_fd, register, socketpair, write_fd};

fn setsockopt(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: passes a pointer to a local c_int and its size.
    let ret = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as _,
        )
    };
    cvt(ret as isize).map(drop)
}

/// Control-message space, aligned for `cmsghdr`.
type Control = [u64; 16];

/// One `sendmsg` to `to`; with `segment`, a GSO send the kernel splits into
/// datagrams of that size (quinn-udp's `UDP_SEGMENT`).
fn send_to(fd: RawFd, payload: &[u8], to: SocketAddrV4, segment: Option<u16>) -> io::Result<usize> {
    // SAFETY: all-zero is a valid sockaddr_in, msghdr and control buffer.
    let mut addr: libc::sockaddr_in = unsafe { zeroed() };
    addr.sin_family = libc::AF_INET as _;
    addr.sin_port = to.port().to_be();
    addr.sin_addr.s_addr = u32::from_ne_bytes(to.ip().octets());
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut _,
        iov_len: payload.len(),
    };
    let mut control: Control = [0; 16];
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&raw mut addr).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as _;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(segment) = segment {
        msg.msg_control = control.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE/CMSG_LEN compute sizes; the header and data
        // written lie inside `control`, which has room for them.
        unsafe {
            msg.msg_controllen = libc::CMSG_SPACE(size_of::<u16>() as _) as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_UDP;
            (*cmsg).cmsg_type = libc::UDP_SEGMENT;
            (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as _) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<u16>(), segment);
        }
    }
    // SAFETY: `msg` points at live locals for the duration of the call.
    cvt(unsafe { libc::sendmsg(fd, &msg, 0) })
}

/// What `recvmsg` said besides the bytes.
#[derive(Debug)]
struct Meta {
    len: usize,
    from: SocketAddrV4,
    /// `IP_PKTINFO`: the address the datagram was sent to.
    dst: Option<Ipv4Addr>,
    /// `UDP_GRO`: the size of the datagrams coalesced into this receive.
    stride: Option<usize>,
}

fn recv_meta(fd: RawFd, buf: &mut [u8]) -> io::Result<Meta> {
    // SAFETY: all-zero is a valid sockaddr_in and msghdr.
    let mut addr: libc::sockaddr_in = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control: Control = [0; 16];
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&raw mut addr).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as _;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<Control>() as _;
    // SAFETY: `msg` points at live locals and `buf` for the call.
    let len = cvt(unsafe { libc::recvmsg(fd, &mut msg, 0) })?;
    assert_eq!(
        msg.msg_flags & libc::MSG_CTRUNC,
        0,
        "control messages truncated"
    );
    let mut meta = Meta {
        len,
        from: SocketAddrV4::new(
            Ipv4Addr::from(addr.sin_addr.s_addr.to_ne_bytes()),
            u16::from_be(addr.sin_port),
        ),
        dst: None,
        stride: None,
    };
    // SAFETY: walks the control messages the kernel wrote into `control`
    // with the CMSG macros, reading each payload unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let data = libc::CMSG_DATA(cmsg);
            match ((*cmsg).cmsg_level, (*cmsg).cmsg_type) {
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                    let info = std::ptr::read_unaligned(data.cast::<libc::in_pktinfo>());
                    meta.dst = Some(Ipv4Addr::from(info.ipi_addr.s_addr.to_ne_bytes()));
                }
                (libc::SOL_UDP, libc::UDP_GRO) => {
                    let size = std::ptr::read_unaligned(data.cast::<libc::c_int>());
                    meta.stride = Some(size as usize);
                }
                _ => {}
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(meta)
}

pub(crate) async fn udp_gso_gro_pktinfo() {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_nonblocking(true).unwrap();
    tx.set_nonblocking(true).unwrap();
    setsockopt(rx.as_raw_fd(), libc::IPPROTO_IP, libc::IP_PKTINFO, 1).unwrap();
    let gro = setsockopt(rx.as_raw_fd(), libc::SOL_UDP, libc::UDP_GRO, 1).is_ok();
    let SocketAddr::V4(rx_addr) = rx.local_addr().unwrap() else {
        unreachable!()
    };
    let SocketAddr::V4(tx_addr) = tx.local_addr().unwrap() else {
        unreachable!()
    };
    let rx = register(rx, Interest::READABLE);
    let tx = register(tx, Interest::WRITABLE);

    // Three 100-byte datagrams in one GSO send, as quinn-udp batches them.
    let payload: Vec<u8> = (0..300).map(|i| b'a' + (i / 100) as u8).collect();
    let gso = match tx
        .async_io(Interest::WRITABLE, |s| {
            send_to(s.as_raw_fd(), &payload, rx_addr, Some(100))
        })
        .await
    {
        Ok(n) => {
            assert_eq!(n, 300);
            true
        }
        // No GSO here (quinn-udp then sends one datagram per call too).
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT)
            ) =>
        {
            for chunk in payload.chunks(100) {
                let n = tx
                    .async_io(Interest::WRITABLE, |s| {
                        send_to(s.as_raw_fd(), chunk, rx_addr, None)
                    })
                    .await
                    .unwrap();
                assert_eq!(n, 100);
            }
            false
        }
        Err(e) => panic!("sendmsg: {e}"),
    };

    let mut got = Vec::new();
    let mut receives = Vec::new();
    let mut buf = vec![0u8; 65536];
    while got.len() < payload.len() {
        let meta = rx
            .async_io(Interest::READABLE, |s| recv_meta(s.as_raw_fd(), &mut buf))
            .await
            .unwrap();
        assert_eq!(meta.from, tx_addr);
        assert_eq!(
            meta.dst,
            Some(Ipv4Addr::LOCALHOST),
            "IP_PKTINFO missing: {meta:?}"
        );
        got.extend_from_slice(&buf[..meta.len]);
        receives.push(meta);
    }
    assert_eq!(got, payload);
    if gso && gro {
        // The kernel kept the GSO send whole: one receive, its stride 100.
        assert!(
            receives
                .iter()
                .all(|m| m.len <= 100 || m.stride == Some(100)),
            "coalesced receive without its UDP_GRO stride: {receives:?}"
        );
    }
    // Drained: the next try would block, and says so without a wait.
    let err = rx
        .try_io(Interest::READABLE, |s| recv_meta(s.as_raw_fd(), &mut buf))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
}

fn send_fd(sock: RawFd, payload: &[u8], fd: RawFd) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut _,
        iov_len: payload.len(),
    };
    let mut control: Control = [0; 16];
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: the header and the fd written lie inside `control`; `msg`
    // points at live locals for the call.
    unsafe {
        msg.msg_controllen = libc::CMSG_SPACE(size_of::<libc::c_int>() as _) as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<libc::c_int>() as _) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>(), fd);
        cvt(libc::sendmsg(sock, &msg, 0))
    }
}

fn recv_fd(sock: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<OwnedFd>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control: Control = [0; 16];
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<Control>() as _;
    // SAFETY: `msg` points at live locals and `buf` for the call.
    let n = cvt(unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) })?;
    let mut fd = None;
    // SAFETY: walks the control messages the kernel wrote; an SCM_RIGHTS
    // fd is new and ours to own.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if ((*cmsg).cmsg_level, (*cmsg).cmsg_type) == (libc::SOL_SOCKET, libc::SCM_RIGHTS) {
                let raw = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
                fd = Some(OwnedFd::from_raw_fd(raw));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n, fd))
}

pub(crate) async fn scm_rights() {
    let (a, b): (UnixStream, UnixStream) = socketpair();
    let a = register(a, Interest::WRITABLE);
    let b = register(b, Interest::READABLE);
    let (pipe_r, pipe_w) = pipe();

    let n = a
        .async_io(Interest::WRITABLE, |s| {
            send_fd(s.as_raw_fd(), b"fd", pipe_w.as_raw_fd())
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    // The copy in flight is now the pipe's only writer.
    drop(pipe_w);

    let mut buf = [0u8; 16];
    let (n, passed) = b
        .async_io(Interest::READABLE, |s| recv_fd(s.as_raw_fd(), &mut buf))
        .await
        .unwrap();
    assert_eq!(&buf[..n], b"fd");
    let passed = register(passed.expect("an SCM_RIGHTS fd"), Interest::WRITABLE);
    let pipe_r = register(pipe_r, Interest::READABLE);

    let n = passed
        .async_io(Interest::WRITABLE, |fd| {
            write_fd(fd.as_raw_fd(), b"through the passed fd")
        })
        .await
        .unwrap();
    let mut got = [0u8; 64];
    let m = pipe_r
        .async_io(Interest::READABLE, |fd| read_fd(fd.as_raw_fd(), &mut got))
        .await
        .unwrap();
    assert_eq!(&got[..m], &b"through the passed fd"[..n]);

    // Dropping the passed fd closes the last writer: EOF on the pipe.
    drop(passed);
    let m = pipe_r
        .async_io(Interest::READABLE, |fd| read_fd(fd.as_raw_fd(), &mut got))
        .await
        .unwrap();
    assert_eq!(m, 0);
}
