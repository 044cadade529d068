//! Node leases and the takeover of a dead node's async tasks.
//!
//! None of this goes through [`SqlStore::write`]: a heartbeat is not a change of the data the
//! nodes serve, so it neither queues behind the writers nor notifies the other nodes (which would
//! make every data plane reload its routes every heartbeat). Each statement commits on its own;
//! they are safe in any interleaving with another node's heartbeat.

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::{Engine, SqlStore, ts};
use crate::{Heartbeat, Result};

fn epoch_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

impl<DB> SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    pub(super) async fn heartbeat_impl(&self, now: OffsetDateTime, lease: Duration, reason: &str) -> Result<Heartbeat> {
        sqlx::query(
            "INSERT INTO nodes (id, heartbeat_ms) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms",
        )
        .bind(self.node_id.as_ref())
        .bind(epoch_ms(now))
        .execute(&self.pool)
        .await?;
        // One process owns a SQLite file: any other node there is an earlier run, stopped.
        let expired = if self.shared { epoch_ms(now - lease) } else { i64::MAX };
        sqlx::query("DELETE FROM nodes WHERE id <> $1 AND heartbeat_ms < $2")
            .bind(self.node_id.as_ref())
            .bind(expired)
            .execute(&self.pool)
            .await?;
        let failed_tasks = self.fail_orphaned_tasks(now, reason).await?;
        let live: i64 = sqlx::query("SELECT COUNT(*) FROM nodes").fetch_one(&self.pool).await?.try_get(0)?;
        Ok(Heartbeat { live_nodes: live.max(1) as u64, failed_tasks })
    }

    pub(super) async fn leave_impl(&self, now: OffsetDateTime, reason: &str) -> Result<u64> {
        sqlx::query("DELETE FROM nodes WHERE id = $1").bind(self.node_id.as_ref()).execute(&self.pool).await?;
        self.fail_orphaned_tasks(now, reason).await
    }

    /// Fails the unfinished tasks whose node is not (or no longer) among the live ones.
    async fn fail_orphaned_tasks(&self, now: OffsetDateTime, reason: &str) -> Result<u64> {
        let failed = sqlx::query(
            "UPDATE async_tasks SET status = 'failed', result = $1, updated_at = $2 \
             WHERE status IN ('waiting', 'processing') \
             AND (node_id IS NULL OR node_id NOT IN (SELECT id FROM nodes))",
        )
        .bind(reason)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(DB::rows_affected(&failed))
    }
}
