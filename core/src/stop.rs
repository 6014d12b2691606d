//! A stop signal that can be checked without being consumed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(crate) struct Stop {
    /// The caller's signal, until it fires.
    future: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    fired: bool,
    /// The client's close, which stops as the signal does ([`Stop::with_close`]).
    closed: Option<CancellationToken>,
    /// What an acknowledgement in progress still gets once the signal fired.
    grace: Duration,
}

impl Stop {
    pub(crate) fn new(future: impl Future<Output = ()> + Send + 'static) -> Self {
        Stop { future: Some(Box::pin(future)), fired: false, closed: None, grace: crate::run::STOP_GRACE }
    }

    pub(crate) fn never() -> Self {
        Stop { future: None, fired: false, closed: None, grace: crate::run::STOP_GRACE }
    }

    /// Stops on the client's close too. Both together (the signal and the close, in either
    /// order) also end the wait for a handler that does not return: see [`Stop::unless_forced`].
    pub(crate) fn with_close(mut self, closed: CancellationToken) -> Self {
        self.closed = Some(closed);
        self
    }

    /// `work`, or `None` once both the signal and the close have come. One of them is a
    /// graceful stop that lets the handler in progress finish; the second says not to wait
    /// for it (its batch is not acknowledged and comes back).
    pub(crate) async fn unless_forced<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        let Some(closed) = self.closed.clone() else { return Some(work.await) };
        tokio::select! {
            biased;
            result = work => Some(result),
            () = async {
                self.signal().await;
                closed.cancelled().await;
            } => None,
        }
    }

    pub(crate) fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    pub(crate) fn grace(&self) -> Duration {
        self.grace
    }

    /// Whether the signal has fired (or the client closed), without waiting.
    pub(crate) fn fired(&mut self) -> bool {
        self.signal_fired() || self.closed.as_ref().is_some_and(CancellationToken::is_cancelled)
    }

    fn signal_fired(&mut self) -> bool {
        if !self.fired
            && let Some(f) = self.future.as_mut()
        {
            let mut cx = Context::from_waker(Waker::noop());
            // Unconstrained: a task that used up its tokio budget in this poll would see a
            // ready channel as pending, and take a handler cut short by the stop for a failure.
            if std::pin::pin!(tokio::task::unconstrained(f.as_mut())).poll(&mut cx).is_ready() {
                self.fired = true;
                self.future = None;
            }
        }
        self.fired
    }

    /// Resolves when the signal fires or the client closes; pending forever for [`Stop::never`].
    pub(crate) async fn wait(&mut self) {
        match self.closed.clone() {
            Some(closed) => tokio::select! {
                () = self.signal() => {}
                () = closed.cancelled() => {}
            },
            None => self.signal().await,
        }
    }

    /// Resolves when the caller's signal fires.
    async fn signal(&mut self) {
        if self.fired {
            return;
        }
        match self.future.as_mut() {
            Some(f) => {
                f.await;
                self.fired = true;
                self.future = None;
            }
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_that_came_is_seen_by_a_task_that_used_up_its_budget() {
        let (send, came) = tokio::sync::oneshot::channel::<()>();
        let mut stop = Stop::new(async move {
            let _ = came.await;
        });
        send.send(()).unwrap();
        // Each ready receive takes from the task's budget, until one says pending.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for n in 0..1000 {
            tx.send(n).unwrap();
        }
        let fired = std::future::poll_fn(|cx| {
            while rx.poll_recv(cx).is_ready() {}
            std::task::Poll::Ready(stop.fired())
        })
        .await;
        assert!(rx.try_recv().is_ok(), "the budget was never used up");
        assert!(fired);
    }
}
