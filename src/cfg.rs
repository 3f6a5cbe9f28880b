//! Every `cfg` predicate shardio depends on, in one place.

/// Items compiled only with `--cfg tokio_unstable` (Tokio's task-poll hooks).
macro_rules! cfg_unstable {
    ($($item:item)*) => {
        $(
            #[cfg(tokio_unstable)]
            #[cfg_attr(docsrs, doc(cfg(tokio_unstable)))]
            $item
        )*
    };
}

/// Items compiled only with at least one of the library features (`axum`,
/// `hyper`, `tonic`): the `compat` module that holds their glue.
macro_rules! cfg_compat {
    ($($item:item)*) => {
        $(
            #[cfg(any(feature = "axum", feature = "hyper", feature = "tonic"))]
            #[cfg_attr(
                docsrs,
                doc(cfg(any(feature = "axum", feature = "hyper", feature = "tonic")))
            )]
            $item
        )*
    };
}

/// Items compiled only with the `axum` feature.
// Used only in `compat`, which is compiled only with one of the features.
#[allow(unused_macros)]
macro_rules! cfg_axum {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "axum")]
            #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
            $item
        )*
    };
}

/// Items compiled only with the `hyper` feature.
// Used only in `compat`, which is compiled only with one of the features.
#[allow(unused_macros)]
macro_rules! cfg_hyper {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "hyper")]
            #[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
            $item
        )*
    };
}

/// Items compiled only with the `tonic` feature.
// Used only in `compat`, which is compiled only with one of the features.
#[allow(unused_macros)]
macro_rules! cfg_tonic {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "tonic")]
            #[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
            $item
        )*
    };
}

/// Items compiled only with the `fault-injection` feature (`shardio::fault`).
macro_rules! cfg_faults {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "fault-injection")]
            #[cfg_attr(docsrs, doc(cfg(feature = "fault-injection")))]
            $item
        )*
    };
}

/// Items compiled only without the `fault-injection` feature: the hooks'
/// no-op versions.
macro_rules! cfg_no_faults {
    ($($item:item)*) => {
        $(
            #[cfg(not(feature = "fault-injection"))]
            $item
        )*
    };
}
