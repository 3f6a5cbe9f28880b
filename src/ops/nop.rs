use std::io;

use io_uring::{opcode, squeue};

use crate::driver::{Op, OpKind};

/// `IORING_OP_NOP`: a round trip through the ring that does nothing.
struct Nop;

// SAFETY: a nop SQE carries no pointers.
unsafe impl OpKind for Nop {
    type Output = io::Result<()>;
    const OPCODE: u8 = opcode::Nop::CODE;
    const INLINE_FALLBACK: bool = true;

    fn sqe(&mut self) -> squeue::Entry {
        opcode::Nop::new().build()
    }
    fn complete(self, cqe: crate::driver::Cqe) -> io::Result<()> {
        cqe.into_result().map(drop)
    }
    fn blocking(self) -> io::Result<()> {
        Ok(())
    }
    fn fail(self, err: io::Error) -> io::Result<()> {
        Err(err)
    }
}

/// Sends a no-op through the current thread's ring and waits for its
/// completion: the cheapest way to see the driver work.
///
/// On the fallback path it completes at once.
///
/// # Errors
///
/// Fails when called outside a Tokio runtime, or in a runtime without its I/O
/// driver enabled.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// shardio::nop().await?;
/// # Ok(())
/// # }
/// ```
///
/// # Cancel safety
///
/// Cancel safe: the no-op has no effect, whether or not it runs after the drop.
pub async fn nop() -> io::Result<()> {
    Op::new(Nop).await
}
