//! A ring's table of registered ("fixed") buffers: the `AlignedBuf` arena's
//! chunks and a `FixedBufPool`'s buffers, registered on first use.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

use io_uring::Submitter;

use crate::sync::Mutex;

/// Access to a ring's submitter for registrations (the ring locks itself
/// around the call). Implemented by `Ring`; kept abstract so the table does
/// not depend on the ring that owns it.
pub(crate) trait Registrar {
    /// Runs `f` with the ring's submitter.
    fn register(&self, f: &mut dyn FnMut(&Submitter<'_>) -> io::Result<()>) -> io::Result<()>;
}

/// The first buffer-table slot of a `FixedBufPool`; slots before it hold
/// the `AlignedBuf` arena's chunks (slot `i` = chunk `i`).
pub(crate) const POOL_BASE: usize = crate::buf::arena::MAX_CHUNKS;
/// Slots in a ring's buffer table: the kernel's maximum.
const TABLE_SLOTS: usize = crate::buf::REGISTERED_SLOTS;

/// What one ring has registered. The table itself is set up on first use,
/// as a sparse table that chunks and pools are then put into.
#[derive(Default)]
pub(crate) struct BufTable {
    table: Mutex<FixedTable>,
    /// Bit `i`: arena chunk `i` is registered (read without the lock).
    arena_chunks: AtomicU32,
    /// Bit `i`: registering arena chunk `i` failed (e.g. over
    /// RLIMIT_MEMLOCK); not retried, its buffers are used unregistered.
    arena_refused: AtomicU32,
}

#[derive(Default)]
struct FixedTable {
    state: TableState,
    /// The `FixedBufPool` registered, by pool id.
    pool: Option<u64>,
}

#[derive(Default)]
enum TableState {
    #[default]
    Unset,
    Ready,
    /// The kernel refused a sparse table (before Linux 5.13): no fixed
    /// buffers on this ring.
    Refused,
}

impl BufTable {
    /// Registers `pool`'s buffers with `ring` (from slot [`POOL_BASE`]),
    /// once; errors if another pool is registered there or the kernel
    /// refuses.
    pub(crate) fn register_pool(
        &self,
        ring: &dyn Registrar,
        pool: &crate::buf::PoolInner,
    ) -> io::Result<()> {
        let mut table = self.table.lock();
        match table.pool {
            Some(id) if id == pool.id => return Ok(()),
            Some(_) => {
                return Err(io::Error::other(
                    "shardio: this thread's ring has another FixedBufPool registered; use one pool per process",
                ));
            }
            None => {}
        }
        Self::ensure_table(ring, &mut table)?;
        let iovecs = pool.iovecs();
        // SAFETY: the iovecs point into the pool's allocation, which is
        // never freed (a pool's memory lives for the rest of the process),
        // so it stays valid for as long as this ring can use it.
        ring.register(&mut |s| unsafe {
            s.register_buffers_update(POOL_BASE as u32, &iovecs, None)
        })?;
        table.pool = Some(pool.id);
        Ok(())
    }

    /// The slot of arena chunk `chunk` in `ring`'s table, registering the
    /// chunk on its first use there; `None` if the kernel refuses (the
    /// operation then uses the buffer unregistered).
    pub(crate) fn arena_slot(&self, ring: &dyn Registrar, chunk: usize) -> Option<u16> {
        let bit = 1u32 << chunk;
        if self.arena_chunks.load(Ordering::Acquire) & bit != 0 {
            return Some(chunk as u16);
        }
        if self.arena_refused.load(Ordering::Relaxed) & bit != 0 {
            return None;
        }
        let mut table = self.table.lock();
        if self.arena_chunks.load(Ordering::Acquire) & bit != 0 {
            return Some(chunk as u16);
        }
        if let Err(e) = Self::ensure_table(ring, &mut table) {
            tracing::debug!(target: "shardio::driver", error = %e, "no registered buffers on this ring");
            self.arena_refused.store(u32::MAX, Ordering::Relaxed);
            return None;
        }
        let iovec = crate::buf::arena::chunk_iovec(chunk)?;
        // SAFETY: arena chunks are never freed, so the memory stays valid
        // for as long as this ring can use it.
        let registered = ring
            .register(&mut |s| unsafe { s.register_buffers_update(chunk as u32, &[iovec], None) });
        match registered {
            Ok(()) => {
                self.arena_chunks.fetch_or(bit, Ordering::Release);
                Some(chunk as u16)
            }
            Err(e) => {
                tracing::debug!(target: "shardio::driver", error = %e, chunk, "could not register an arena chunk; its buffers are used unregistered on this ring");
                self.arena_refused.fetch_or(bit, Ordering::Relaxed);
                None
            }
        }
    }

    /// Sets up the sparse table on first use.
    fn ensure_table(ring: &dyn Registrar, table: &mut FixedTable) -> io::Result<()> {
        match table.state {
            TableState::Ready => return Ok(()),
            TableState::Refused => {
                return Err(io::Error::other(
                    "shardio: the kernel refused a registered-buffer table (Linux 5.13 or later needed)",
                ));
            }
            TableState::Unset => {}
        }
        let res = ring.register(&mut |s| s.register_buffers_sparse(TABLE_SLOTS as u32));
        table.state = if res.is_ok() {
            TableState::Ready
        } else {
            TableState::Refused
        };
        res
    }
}
