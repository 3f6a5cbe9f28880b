//! `no-io-uring [--errno ENOSYS|EPERM] <command> [args...]`: runs a command
//! with `io_uring_setup` answered by a seccomp filter (default ENOSYS), as a
//! container runtime's profile would; e.g. shardio's test suite on its real
//! fallback path: `no-io-uring cargo nextest run --workspace`. The command
//! runs with `SHARDIO_TEST_SECCOMP` set to the errno's name, so tests that
//! check the fallback's reason know it is the filter's.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut errno = libc::ENOSYS;
    if args.first().map(String::as_str) == Some("--errno") {
        errno = match args.get(1).map(String::as_str) {
            Some("ENOSYS") => libc::ENOSYS,
            Some("EPERM") => libc::EPERM,
            other => {
                eprintln!("no-io-uring: --errno takes ENOSYS or EPERM, not {other:?}");
                return ExitCode::from(2);
            }
        };
        args.drain(..2);
    }
    let Some((program, rest)) = args.split_first() else {
        eprintln!("usage: no-io-uring [--errno ENOSYS|EPERM] <command> [args...]");
        return ExitCode::from(2);
    };
    if let Err(e) = shardio_testnet::block_io_uring_setup(errno) {
        eprintln!("no-io-uring: cannot install the seccomp filter: {e}");
        return ExitCode::from(1);
    }
    // Tests that check the fallback's reason learn why it is not theirs.
    let name = if errno == libc::EPERM {
        "EPERM"
    } else {
        "ENOSYS"
    };
    let e = Command::new(program)
        .args(rest)
        .env("SHARDIO_TEST_SECCOMP", name)
        .exec();
    eprintln!("no-io-uring: cannot run {program}: {e}");
    ExitCode::from(127)
}
