//! Group commit: one writer per process takes commands from a bounded
//! queue, runs as many as are waiting (up to `max_batch`) in ONE
//! transaction, each inside its own savepoint — a command that fails is
//! rolled back alone and fails only its own request — commits once, and
//! only then answers every request of the batch. Nothing is acknowledged
//! before its commit is durable.
//!
//! SQLite: the writer is a thread that owns the file's one writing
//! connection (rusqlite), so a batch runs where the connection lives, with
//! no thread hop per statement.
//!
//! PostgreSQL: `pg_writers` runners share the queue, each running one
//! command per transaction on its own pool connection. There, a batch on
//! one connection is bounded by round trips (every statement waits for the
//! server: 0.2 ms on this machine's loopback, so ~25 statements per order
//! cap one connection near 200 orders/s, measured), while PostgreSQL
//! already flushes the WAL of concurrent commits together (its own group
//! commit). Row locks, taken in key order inside each command, keep the
//! runners — and other processes' — apart; a deadlock victim is retried.
//!
//! The writer, not the request, owns the transaction: a client that
//! disconnects mid-request cannot leave it half-done.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use switchyard_store::{Db, StoreError, Tx, WriterConnection};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Stopwatch;
use crate::{Ctx, Error};

type Output = Box<dyn Any + Send>;
type Run = Box<dyn for<'a> FnOnce(&'a mut Tx, &'a Ctx) -> BoxFuture<'a, Result<Output, Error>> + Send>;

/// One command: what to run, and where its answer goes.
struct Job {
    run: Run,
    reply: oneshot::Sender<Result<Output, Error>>,
}

/// The sending side of the writer's queue.
pub(crate) struct Writer {
    queue: mpsc::Sender<Job>,
}

/// Results of a batch whose commands ran, waiting for the commit.
type Ran = Vec<(oneshot::Sender<Result<Output, Error>>, Result<Output, Error>)>;

impl Writer {
    /// Starts the writer for `db`.
    pub(crate) fn start(db: &Db, ctx: Arc<Ctx>) -> Result<Writer, Error> {
        let (tx, rx) = mpsc::channel(ctx.config.write_queue.max(1));
        let max_batch = ctx.config.max_batch.max(1);
        match db.sqlite_writer()? {
            Some(conn) => {
                let running = Arc::new(AtomicBool::new(true));
                let flag = running.clone();
                std::thread::Builder::new()
                    .name("switchyard-writer".into())
                    .spawn(move || {
                        sqlite_loop(conn, ctx, rx, max_batch);
                        flag.store(false, Ordering::Relaxed);
                    })
                    .map_err(|e| StoreError::corrupt(format!("cannot start the writer thread: {e}")))?;
                if let Some(conn) = db.sqlite_checkpointer()? {
                    std::thread::Builder::new()
                        .name("switchyard-checkpoint".into())
                        .spawn(move || checkpoint_loop(conn, running))
                        .map_err(|e| StoreError::corrupt(format!("cannot start the checkpointer: {e}")))?;
                }
            }
            None => {
                let rx = Arc::new(tokio::sync::Mutex::new(rx));
                for _ in 0..ctx.config.pg_writers.max(1) {
                    tokio::spawn(postgres_loop(db.clone(), ctx.clone(), rx.clone()));
                }
            }
        }
        Ok(Writer { queue: tx })
    }

    /// Runs `f` in the next batch and returns its result once the batch is
    /// committed. A full queue is refused at once ([`Error::Overloaded`]).
    pub(crate) async fn submit<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Tx, &'a Ctx) -> BoxFuture<'a, Result<T, Error>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let run: Run =
            Box::new(move |tx, ctx| Box::pin(async move { f(tx, ctx).await.map(|t| Box::new(t) as Output) }));
        self.queue.try_send(Job { run, reply }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::Overloaded,
            mpsc::error::TrySendError::Closed(_) => stopped(),
        })?;
        let out = answer.await.map_err(|_| stopped())??;
        out.downcast::<T>().map(|b| *b).map_err(|_| Error::Store(StoreError::corrupt("writer answered another type")))
    }
}

fn stopped() -> Error {
    Error::Store(StoreError::CommitFailed("the writer has stopped".into()))
}

/// Takes the first waiting job (blocking until there is one) and as many
/// more as are queued, up to `max`.
fn gather(first: Job, rx: &mut mpsc::Receiver<Job>, max: usize) -> Vec<Job> {
    let mut jobs = vec![first];
    while jobs.len() < max {
        match rx.try_recv() {
            Ok(j) => jobs.push(j),
            Err(_) => break,
        }
    }
    jobs
}

/// Runs each job in its own savepoint. `Err` is a failure of the
/// transaction itself: nothing of the batch may be committed.
async fn run_batch(tx: &mut Tx, ctx: &Ctx, jobs: Vec<Job>) -> (Ran, Result<(), StoreError>) {
    let mut ran: Ran = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    for job in jobs.by_ref() {
        if let Err(e) = tx.savepoint().await {
            ran.push((job.reply, Err(batch_failed(&e))));
            for rest in jobs {
                ran.push((rest.reply, Err(batch_failed(&e))));
            }
            return (ran, Err(e));
        }
        let result = match AssertUnwindSafe((job.run)(tx, ctx)).catch_unwind().await {
            Ok(r) => r,
            Err(_) => Err(Error::Store(StoreError::corrupt("a command panicked; it was rolled back"))),
        };
        let closed = if result.is_ok() {
            tx.release().await
        } else {
            // What the command read into the catalogue cache may be undone.
            ctx.catalog.forget();
            tx.rollback_to_savepoint().await
        };
        ran.push((job.reply, result));
        if let Err(e) = closed {
            for rest in jobs {
                ran.push((rest.reply, Err(batch_failed(&e))));
            }
            return (ran, Err(e));
        }
    }
    (ran, Ok(()))
}

fn batch_failed(e: &StoreError) -> Error {
    Error::Store(StoreError::CommitFailed(e.to_string()))
}

/// Answers every request of a batch: its own result if the batch
/// committed, the commit's failure otherwise.
fn answer(ran: Ran, committed: Result<(), StoreError>) {
    match committed {
        Ok(()) => {
            for (reply, result) in ran {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, commands = ran.len(), "batch not committed");
            for (reply, _) in ran {
                let _ = reply.send(Err(batch_failed(&e)));
            }
        }
    }
}

fn sqlite_loop(conn: WriterConnection, ctx: Arc<Ctx>, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "the writer cannot start a runtime");
            return;
        }
    };
    let mut conn = Some(conn);
    while let Some(first) = rx.blocking_recv() {
        let jobs = gather(first, &mut rx, max_batch);
        let Some(c) = conn.take() else { break };
        let mut tx = match Tx::begin_sqlite(c) {
            Ok(tx) => tx,
            Err(failed) => {
                let (c, e) = *failed;
                conn = Some(c);
                answer(jobs.into_iter().map(|j| (j.reply, Err(batch_failed(&e)))).collect(), Err(e));
                continue;
            }
        };
        let (size, watch) = (jobs.len(), Stopwatch::start());
        let (ran, ok) = rt.block_on(run_batch(&mut tx, &ctx, jobs));
        let ran_us = watch.micros();
        let (c, committed) = tx.finish_sqlite(ok.is_ok());
        tracing::debug!(size, ran_us, commit_us = watch.micros() - ran_us, "batch");
        conn = c;
        let committed = ok.and(committed);
        if committed.is_err() {
            ctx.catalog.forget();
        }
        answer(ran, committed);
    }
}

/// Copies committed WAL pages back into the database file every 200 ms
/// while the writer runs (PASSIVE: it never blocks the writer or readers).
fn checkpoint_loop(conn: WriterConnection, running: Arc<AtomicBool>) {
    while running.load(Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(200));
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint failed; the writer's backstop checkpoints instead");
        }
    }
}

async fn postgres_loop(db: Db, ctx: Arc<Ctx>, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let Some(job) = rx.lock().await.recv().await else { break };
        let mut tx = match db.write().await {
            Ok(tx) => tx,
            Err(e) => {
                answer(vec![(job.reply, Err(batch_failed(&e)))], Err(e));
                continue;
            }
        };
        // One command per transaction: the transaction is its savepoint (two
        // round trips fewer than `run_batch`).
        let result = match AssertUnwindSafe((job.run)(&mut tx, &ctx)).catch_unwind().await {
            Ok(r) => r,
            Err(_) => Err(Error::Store(StoreError::corrupt("a command panicked; it was rolled back"))),
        };
        if result.is_err() {
            ctx.catalog.forget();
            // Nothing of a failed command is kept; the rollback's own failure
            // changes nothing for the client, whose command failed anyway.
            if let Err(e) = tx.rollback().await {
                tracing::warn!(error = %e, "rollback of a failed command failed");
            }
            let _ = job.reply.send(result);
            continue;
        }
        let committed = tx.commit().await;
        if committed.is_err() {
            ctx.catalog.forget();
        }
        answer(vec![(job.reply, result)], committed);
    }
}
