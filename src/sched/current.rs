//! The class of the running future: `PriorityClass::scope` and `force`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::class::{ClassInner, PriorityClass};

#[derive(Default)]
struct Current {
    scoped: Option<Arc<ClassInner>>,
    forced: Option<Arc<ClassInner>>,
}

thread_local! {
    static CURRENT: RefCell<Current> = RefCell::new(Current::default());
}

/// The class an operation runs in: a forced class (`force`) wins, then the
/// file's or socket's own class (`set_class`), then the scope's class
/// (`scope`), then the default class.
pub(crate) fn resolve(object: Option<Arc<ClassInner>>) -> Arc<ClassInner> {
    CURRENT.with(|c| {
        let c = c.borrow();
        c.forced
            .clone()
            .or(object)
            .or_else(|| c.scoped.clone())
            .unwrap_or_else(|| PriorityClass::default_class().inner)
    })
}

pin_project_lite::pin_project! {
    /// A future running in a priority class: see [`PriorityClass::scope`]
    /// and [`PriorityClass::force`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        #[pin]
        future: F,
        class: Arc<ClassInner>,
        forced: bool,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let class = Some(Arc::clone(this.class));
        let forced = *this.forced;
        let previous = CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if forced {
                std::mem::replace(&mut c.forced, class)
            } else {
                std::mem::replace(&mut c.scoped, class)
            }
        });
        // Restores the outer class even if the inner future panics.
        struct Restore {
            previous: Option<Option<Arc<ClassInner>>>,
            forced: bool,
        }
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.previous.take().flatten();
                // `try_with`: the thread-local may be gone at thread exit.
                let _ = CURRENT.try_with(|c| {
                    let mut c = c.borrow_mut();
                    if self.forced {
                        c.forced = previous;
                    } else {
                        c.scoped = previous;
                    }
                });
            }
        }
        let _restore = Restore {
            previous: Some(previous),
            forced,
        };
        this.future.poll(cx)
    }
}

impl<F> fmt::Debug for Scoped<F> {
    /// Shows the class and whether it is forced; the future itself is not
    /// shown, so `F` need not be `Debug`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("class", &self.class.name)
            .field("forced", &self.forced)
            .finish_non_exhaustive()
    }
}

impl PriorityClass {
    /// Runs `future` in this class: every file and socket operation it
    /// issues (while it is polled) is scheduled in this class, unless the
    /// file or socket has its own class ([`File::set_class`], the sockets'
    /// `set_class`) or the operation is [`force`](Self::force)d into
    /// another.
    ///
    /// The class is not inherited by tasks the future spawns with
    /// `tokio::spawn`: a spawned task is polled on its own, outside this
    /// scope, and runs in the default class. Spawn with
    /// [`PriorityClass::spawn`] to start a task inside a class.
    ///
    /// [`File::set_class`]: crate::fs::File::set_class
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let bulk = shardio::sched::PriorityClass::new("bulk", 100);
    /// let data = bulk.scope(shardio::fs::read("/tmp/big")).await?;
    /// # drop(data); Ok(())
    /// # }
    /// ```
    pub fn scope<F: Future>(&self, future: F) -> Scoped<F> {
        Scoped {
            future,
            class: Arc::clone(&self.inner),
            forced: false,
        }
    }

    /// Runs `future` in this class whatever the class of the files and
    /// sockets it uses: the per-operation override.
    ///
    /// ```no_run
    /// # async fn demo(file: shardio::fs::File) -> std::io::Result<()> {
    /// let urgent = shardio::sched::PriorityClass::new("urgent", 4000);
    /// // This one read jumps ahead, even if `file` was given another class.
    /// let (res, _buf) = urgent.force(file.read_at(vec![0; 512], 0)).await;
    /// res?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn force<F: Future>(&self, future: F) -> Scoped<F> {
        Scoped {
            future,
            class: Arc::clone(&self.inner),
            forced: true,
        }
    }

    /// Spawns `future` on the current Tokio runtime as a task running in
    /// this class (`tokio::spawn(class.scope(future))`).
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, like `tokio::spawn`.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(self.scope(future))
    }

    /// The class an operation issued here would run in, for a file or
    /// socket without a class of its own.
    pub fn current() -> PriorityClass {
        PriorityClass {
            inner: resolve(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_is_debug_without_a_debug_future() {
        struct NotDebug;
        impl Future for NotDebug {
            type Output = ();
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                Poll::Ready(())
            }
        }
        let class = PriorityClass::new("dbg", 10);
        assert_eq!(
            format!("{:?}", class.scope(NotDebug)),
            r#"Scoped { class: "dbg", forced: false, .. }"#
        );
        assert_eq!(
            format!("{:?}", class.force(NotDebug)),
            r#"Scoped { class: "dbg", forced: true, .. }"#
        );
    }
}
