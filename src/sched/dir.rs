//! The direction of a request.

/// Which way the bytes go, for the cost model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Dir {
    Read,
    Write,
}
