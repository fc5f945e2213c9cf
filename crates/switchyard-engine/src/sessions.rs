//! Dashboard sessions: opened at sign-in, looked up on every page, closed
//! at sign-out, purged by the sweeper once expired. The server makes the
//! secrets (a random id, a CSRF token) and hands over only hashes.

use switchyard_store::sessions::{self, SessionRecord};

use crate::{Engine, Error};

/// What the server hands over at sign-in.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// A hash of the browser's random session id (never the id itself).
    pub id_hash: String,
    /// Ties the session to the admin token it was opened with.
    pub binding: String,
    pub csrf: String,
    /// The staff member signing in; `None` for the admin token.
    pub staff_id: Option<String>,
}

impl Engine {
    /// Stores a new session that lasts `ttl_ms` from now.
    pub async fn open_session(&self, s: NewSession, ttl_ms: i64) -> Result<SessionRecord, Error> {
        let now = self.now_ms();
        let record = SessionRecord {
            id_hash: s.id_hash,
            binding: s.binding,
            csrf: s.csrf,
            created_at: now,
            expires_at: now.saturating_add(ttl_ms.max(0)),
            staff_id: s.staff_id,
        };
        let r = record.clone();
        self.run(move |tx, _| Box::pin(async move { Ok(sessions::insert(tx, &r).await?) })).await?;
        Ok(record)
    }

    /// The session with this id hash, unless it ended or expired.
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, Error> {
        let now = self.now_ms();
        let mut tx = self.read().await?;
        let found = sessions::get(&mut tx, id_hash, now).await?;
        tx.rollback().await?;
        Ok(found)
    }

    /// Ends a session; whether there was one.
    pub async fn close_session(&self, id_hash: &str) -> Result<bool, Error> {
        let id = id_hash.to_owned();
        self.run(move |tx, _| Box::pin(async move { Ok(sessions::delete(tx, &id).await?) })).await
    }

    /// Deletes expired sessions (the sweeper calls it).
    pub(crate) async fn purge_sessions(&self) -> Result<u64, Error> {
        let now = self.now_ms();
        self.run(move |tx, _| Box::pin(async move { Ok(sessions::purge_expired(tx, now).await?) })).await
    }
}
