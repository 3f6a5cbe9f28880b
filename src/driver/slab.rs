//! The per-ring table of operations the kernel knows about.
//!
//! A slot is taken when an SQE is pushed and freed only when the operation's
//! last CQE arrived, so a slot index (the SQE's `user_data`) is never reused
//! while the kernel may still post a completion for it.

use std::collections::VecDeque;
use std::task::Waker;

use super::counters::counters;

/// One completion queue entry, as the op sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cqe {
    pub(crate) result: i32,
    pub(crate) flags: u32,
    /// Where this CQE's data starts in its provided buffer (non-zero when
    /// several receives share a buffer: incremental consumption).
    pub(crate) buf_offset: u32,
}

impl Cqe {
    /// The result as `io::Result`: a negative value is `-errno`.
    pub(crate) fn into_result(self) -> std::io::Result<u32> {
        if self.result < 0 {
            Err(std::io::Error::from_raw_os_error(-self.result))
        } else {
            Ok(self.result as u32)
        }
    }

    /// Whether more CQEs follow for the same operation (multishot).
    pub(crate) fn more(self) -> bool {
        io_uring::cqueue::more(self.flags)
    }
}

/// The data of an operation whose future was dropped while in flight.
///
/// It lives in the slot until the last CQE, and sees every CQE that arrives
/// meanwhile, so a result that carries a resource (an opened or accepted fd)
/// is released rather than leaked.
pub(crate) trait Orphan: Send {
    /// Called for each CQE that arrives for the orphaned operation.
    fn cqe(&mut self, cqe: Cqe);
}

/// The data of a dropped operation or stream, with what to do with each
/// CQE that still arrives for it (`OpKind::orphaned` or
/// `MultishotKind::orphaned`), and whatever the caller asked to keep until
/// the kernel is done (e.g. a scheduler permit: the device is still busy).
pub(crate) struct Orphaned<T> {
    data: T,
    on_cqe: fn(&mut T, Cqe),
    _held: Option<Held>,
}

/// Something kept alive until an operation's last CQE.
pub(crate) type Held = Box<dyn Send + Sync>;

impl<T> Orphaned<T> {
    pub(crate) fn new(data: T, on_cqe: fn(&mut T, Cqe), held: Option<Held>) -> Self {
        counters().op_orphaned();
        Orphaned {
            data,
            on_cqe,
            _held: held,
        }
    }
}

/// Counted in `metrics().ops_orphaned` from creation until dropped, which
/// is after the last CQE (or never, for an operation leaked at a ring's
/// shutdown: it is still held).
impl<T> Drop for Orphaned<T> {
    fn drop(&mut self) {
        counters().orphan_done();
    }
}

impl<T: Send> Orphan for Orphaned<T> {
    fn cqe(&mut self, cqe: Cqe) {
        (self.on_cqe)(&mut self.data, cqe);
    }
}

/// Where an operation is in its life, from the driver's point of view.
pub(crate) enum Lifecycle {
    /// Submitted, not completed; the waker of the task that awaits it.
    Waiting(Option<Waker>),
    /// A single-shot operation completed; its future has not taken the result yet.
    Completed(Cqe),
    /// A multishot operation: completions queue until the stream takes them.
    Streaming {
        waker: Option<Waker>,
        queue: VecDeque<Cqe>,
        finished: bool,
    },
    /// The future was dropped while the kernel still owned the operation: the
    /// slot keeps its buffers and fds alive until the last CQE arrives.
    Ignored(Box<dyn Orphan>),
}

enum Entry {
    Occupied(Lifecycle),
    Vacant(usize),
}

/// A free-list slab of lifecycles.
pub(crate) struct Slab {
    entries: Vec<Entry>,
    next_free: usize,
    len: usize,
}

impl Slab {
    pub(crate) fn new() -> Self {
        Slab {
            entries: Vec::new(),
            next_free: 0,
            len: 0,
        }
    }

    /// Number of occupied slots: operations the kernel may still complete.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn insert(&mut self, lifecycle: Lifecycle) -> usize {
        let index = self.next_free;
        if index == self.entries.len() {
            self.entries.push(Entry::Occupied(lifecycle));
            self.next_free = index + 1;
        } else {
            match std::mem::replace(&mut self.entries[index], Entry::Occupied(lifecycle)) {
                Entry::Vacant(next) => self.next_free = next,
                Entry::Occupied(_) => unreachable!("free list points at an occupied slot"),
            }
        }
        self.len += 1;
        index
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut Lifecycle> {
        match self.entries.get_mut(index) {
            Some(Entry::Occupied(lifecycle)) => Some(lifecycle),
            _ => None,
        }
    }

    /// Frees a slot and returns what it held.
    pub(crate) fn remove(&mut self, index: usize) -> Option<Lifecycle> {
        let entry = self.entries.get_mut(index)?;
        if let Entry::Vacant(_) = entry {
            return None;
        }
        match std::mem::replace(entry, Entry::Vacant(self.next_free)) {
            Entry::Occupied(lifecycle) => {
                self.next_free = index;
                self.len -= 1;
                Some(lifecycle)
            }
            Entry::Vacant(_) => unreachable!(),
        }
    }

    /// Indices of every occupied slot.
    pub(crate) fn occupied(&self) -> impl Iterator<Item = usize> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| matches!(e, Entry::Occupied(_)).then_some(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_only_after_removal() {
        let mut slab = Slab::new();
        let a = slab.insert(Lifecycle::Waiting(None));
        let b = slab.insert(Lifecycle::Waiting(None));
        assert_ne!(a, b);
        assert_eq!(slab.len(), 2);
        assert!(slab.remove(a).is_some());
        assert!(slab.remove(a).is_none(), "double free must be refused");
        let c = slab.insert(Lifecycle::Waiting(None));
        assert_eq!(c, a);
        assert_eq!(slab.occupied().collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(slab.len(), 2);
    }
}
