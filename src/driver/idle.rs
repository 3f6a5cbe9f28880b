//! Whether this thread sleeps between its streams' receives: its parks
//! (counted by shardio's park hook) against the receives its streams
//! took, over windows of [`WINDOW`] receives.
//!
//! A stream whose thread mostly parks between receives waits for its next
//! bytes on Tokio's reactor instead of an armed io_uring receive (see
//! `net::ready_recv`): the receive's completion would reach the sleeping
//! thread as task work that interrupts its `epoll_wait`, and cost it a
//! second trip through Tokio's park loop per receive.

use std::cell::Cell;

/// Receives per window.
const WINDOW: u32 = 128;

#[derive(Clone, Copy)]
struct Stats {
    parks: u32,
    receives: u32,
    mostly_parked: bool,
}

thread_local! {
    static STATS: Cell<Stats> = const {
        Cell::new(Stats { parks: 0, receives: 0, mostly_parked: false })
    };
}

/// The thread is about to park (shardio's park hook).
pub(crate) fn note_park() {
    let _ = STATS.try_with(|s| {
        let mut st = s.get();
        st.parks = st.parks.saturating_add(1);
        s.set(st);
    });
}

/// A stream on this thread received bytes. At the end of a window the
/// thread counts as mostly parked from three parks per four receives, and
/// stops counting so below one per two (so that a load near the edge does
/// not switch streams back and forth: each switch cancels a receive).
/// Measured on the echo benchmark: one connection parks once per receive
/// (twice on a current-thread runtime while the ring receives), 64
/// connections in a closed loop far less.
pub(crate) fn note_receive() {
    let _ = STATS.try_with(|s| {
        let mut st = s.get();
        st.receives += 1;
        if st.receives >= WINDOW {
            let parks = u64::from(st.parks);
            let receives = u64::from(st.receives);
            st.mostly_parked = if st.mostly_parked {
                2 * parks >= receives
            } else {
                4 * parks >= 3 * receives
            };
            st.parks = 0;
            st.receives = 0;
        }
        s.set(st);
    });
}

/// Whether this thread mostly parked between receives in its last window.
/// False on threads without shardio's park hook.
pub(crate) fn mostly_parked() -> bool {
    STATS.try_with(|s| s.get().mostly_parked).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One window with `parks` parks spread over its receives.
    fn window(parks: u32) {
        for i in 0..WINDOW {
            if i < parks {
                note_park();
            }
            note_receive();
        }
    }

    #[test]
    fn a_park_per_receive_is_mostly_parked_and_rare_parks_are_not() {
        std::thread::spawn(|| {
            assert!(!mostly_parked());
            window(WINDOW);
            assert!(mostly_parked());
            // Above one park per two receives: still parked.
            window(WINDOW / 2);
            assert!(mostly_parked());
            // Below: busy.
            window(WINDOW / 2 - 1);
            assert!(!mostly_parked());
            // Below three per four from busy: stays busy.
            window(WINDOW * 3 / 4 - 1);
            assert!(!mostly_parked());
            window(WINDOW * 3 / 4);
            assert!(mostly_parked());
        })
        .join()
        .unwrap();
    }
}
