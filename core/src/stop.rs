//! A stop signal that can be checked without being consumed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::Duration;

pub(crate) struct Stop {
    future: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    fired: bool,
    /// What an acknowledgement in progress still gets once the signal fired.
    grace: Duration,
}

impl Stop {
    pub(crate) fn new(future: impl Future<Output = ()> + Send + 'static) -> Self {
        Stop { future: Some(Box::pin(future)), fired: false, grace: crate::run::STOP_GRACE }
    }

    pub(crate) fn never() -> Self {
        Stop { future: None, fired: false, grace: crate::run::STOP_GRACE }
    }

    pub(crate) fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    pub(crate) fn grace(&self) -> Duration {
        self.grace
    }

    /// Whether the signal has fired, without waiting.
    pub(crate) fn fired(&mut self) -> bool {
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

    /// Resolves when the signal fires; pending forever for [`Stop::never`].
    pub(crate) async fn wait(&mut self) {
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
