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
