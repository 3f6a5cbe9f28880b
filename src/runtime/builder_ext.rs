//! `BuilderExt`: one call on `tokio::runtime::Builder` wires shardio in.

use tokio::runtime::Builder;

use super::config::Config;
use super::hooks::Hooks;

/// Extends [`tokio::runtime::Builder`] with shardio's configuration.
///
/// Tokio keeps running every future; this adds per-thread io_uring rings
/// configured by `config`, and installs Tokio's thread and park hooks (and,
/// with `--cfg tokio_unstable`, the task-poll hooks) so that submissions are
/// batched and completions reaped before a worker sleeps.
///
/// Tokio's hooks hold one closure each, and this call sets them: pass your own
/// hooks through [`Config`] (e.g. [`Config::on_thread_start`]) and shardio
/// calls them too. Setting a hook on the builder *after* this call replaces
/// shardio's; shardio still works then (rings are lazy and each has a reaper
/// task), only slower.
///
/// Works for `new_multi_thread()` and `new_current_thread()` builders. The
/// runtime needs Tokio's I/O driver (`enable_io()` or `enable_all()`).
///
/// The `SHARDIO_*` environment variables fill in the settings `config`
/// leaves at their defaults ([`Config::with_env`]), so an operator can turn
/// on async-worker cores or a device model without a code change;
/// [`Config::use_env(false)`](Config::use_env) turns that off.
///
/// # Panics
///
/// If a `SHARDIO_*` variable holds a value that is not valid (the message
/// names the variable, its value and an example), as Tokio's builder
/// panics on a bad setting. Call [`Config::with_env`] yourself to handle
/// the error instead.
///
/// ```
/// use shardio::BuilderExt;
///
/// # fn main() -> std::io::Result<()> {
/// let rt = tokio::runtime::Builder::new_multi_thread()
///     .enable_all()
///     .shardio(shardio::Config::default())
///     .build()?;
/// rt.block_on(async { shardio::nop().await })?;
/// # Ok(())
/// # }
/// ```
///
/// With `--cfg tokio_unstable`, an operation pushed during a task poll is
/// submitted after that poll, together with the others it queued. Such an
/// operation awaited via `Handle::block_on` *inside* `block_in_place` would
/// wait for the enclosing poll to end: await it directly instead.
pub trait BuilderExt {
    /// Installs shardio on this builder with `config`.
    fn shardio(&mut self, config: Config) -> &mut Self;
}

impl BuilderExt for Builder {
    fn shardio(&mut self, config: Config) -> &mut Self {
        let config = if config.use_env {
            config.with_env().unwrap_or_else(|e| panic!("{e}"))
        } else {
            config
        };
        let hooks = Hooks::new(config);
        let start = hooks.clone();
        let stop = hooks.clone();
        let park = hooks.clone();
        let unpark = hooks.clone();
        self.on_thread_start(move || start.thread_start())
            .on_thread_stop(move || stop.thread_stop())
            .on_thread_park(move || park.thread_park())
            .on_thread_unpark(move || unpark.thread_unpark());
        #[cfg(tokio_unstable)]
        {
            let before = hooks.clone();
            let after = hooks;
            self.on_before_task_poll(move |meta| before.before_task_poll(meta))
                .on_after_task_poll(move |meta| after.after_task_poll(meta));
        }
        #[cfg(not(tokio_unstable))]
        drop(hooks);
        self
    }
}
