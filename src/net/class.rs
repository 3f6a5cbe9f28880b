//! `set_class` / `class` for the socket types: one body for all of them
//! (each has an `Inner` with an io_uring side carrying a `sched` target,
//! and an epoll side that is not scheduled).

/// Expands to `set_class` (documented by the attributes passed in) and
/// `class` inside a socket type's `impl`.
macro_rules! class_methods {
    ($(#[$doc:meta])*) => {
        $(#[$doc])*
        pub fn set_class(&self, class: &crate::sched::PriorityClass) {
            if let Inner::Uring(io) = &self.inner {
                io.sched.set_class(class);
            }
        }

        /// The class set with [`set_class`](Self::set_class), if any.
        pub fn class(&self) -> Option<crate::sched::PriorityClass> {
            match &self.inner {
                Inner::Uring(io) => io.sched.class(),
                Inner::Epoll(_) => None,
            }
        }
    };
}
