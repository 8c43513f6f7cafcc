//! Read-model schemas other than the live one: a kept `retired_<time>` schema (`--rebuild
//! --keep-old`), and what a rebuild that crashed or was stopped left behind (its `rebuild_<time>`
//! schema, or a `retired_<time>` schema it had not dropped yet). They hold open texts too, so
//! an erasure must reach them (ADR 0019): the live projection applies every erasure in each
//! schema it finds, and leftovers are dropped at start-up (the projection, `--migrate-only`)
//! and before a rebuild begins.
//!
//! A rebuild holds a session-level advisory lock for its whole run, so a leftover is told from
//! the schema of a rebuild still running; a kept retired schema carries KEPT as its comment.

use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

use crate::ProjectionError;

/// The advisory lock a running rebuild holds ("kaiku-rb" in ASCII).
const REBUILD_LOCK: i64 = 0x6b61_696b_752d_7262;

/// The comment that marks a retired schema an operator asked to keep.
pub const KEPT: &str = "kept by projection --rebuild --keep-old";

/// SQLSTATE insufficient_privilege: the live projection's role may not drop a schema.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// Whether `name` is a schema the rebuild makes (`rebuild_` or `retired_` and its time: 14
/// digits to the second, 20 to the microsecond since issue 21). Names go into statements
/// unquoted, so only these are ever used, whatever the catalog holds.
pub fn is_read_model_schema(name: &str) -> bool {
    let stamp = name
        .strip_prefix("rebuild_")
        .or_else(|| name.strip_prefix("retired_"));
    stamp.is_some_and(|s| (s.len() == 14 || s.len() == 20) && s.bytes().all(|b| b.is_ascii_digit()))
}

/// The other read-model schemas the connection can see (not its own) that hold both tables an
/// erasure touches, by name.
pub async fn others(conn: &mut PgConnection) -> Result<Vec<String>, ProjectionError> {
    let names: Vec<String> = sqlx::query_scalar(
        "select nspname::text from pg_namespace
         where (nspname like 'rebuild\\_%' or nspname like 'retired\\_%')
           and nspname <> current_schema()
           and to_regclass(quote_ident(nspname) || '.feedback_text') is not null
           and to_regclass(quote_ident(nspname) || '.dead_letter') is not null
         order by 1",
    )
    .fetch_all(conn)
    .await?;
    Ok(names
        .into_iter()
        .filter(|n| is_read_model_schema(n))
        .collect())
}

/// Held by a rebuild for its whole run; released when dropped (the session ends).
pub struct RebuildLock {
    conn: PgConnection,
}

impl RebuildLock {
    /// Takes the lock, or None when another rebuild holds it.
    pub async fn try_take(database_url: &str) -> Result<Option<Self>, ProjectionError> {
        let mut conn = PgConnection::connect(database_url).await?;
        let taken: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
            .bind(REBUILD_LOCK)
            .fetch_one(&mut conn)
            .await?;
        Ok(taken.then_some(Self { conn }))
    }

    /// Drops the leftovers of earlier rebuilds, keeping `own` (this rebuild's schema).
    pub async fn clear_leftovers(&mut self, own: &str) -> Result<Vec<String>, ProjectionError> {
        clear(&mut self.conn, own).await
    }

    /// Unlocks before closing: a closed connection's session (and its lock) ends on the server
    /// a moment later, and a start-up check in that moment would take the rebuild as running.
    pub async fn release(mut self) -> Result<(), ProjectionError> {
        sqlx::query("select pg_advisory_unlock($1)")
            .bind(REBUILD_LOCK)
            .execute(&mut self.conn)
            .await?;
        Ok(self.conn.close().await?)
    }
}

/// At start-up: drops leftover schemas unless a rebuild is running (it may own them). Returns
/// what was dropped or emptied.
pub async fn clear_leftovers(pool: &PgPool) -> Result<Vec<String>, ProjectionError> {
    let mut conn = pool.acquire().await?;
    let free: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(REBUILD_LOCK)
        .fetch_one(&mut *conn)
        .await?;
    if !free {
        tracing::info!("a rebuild is running: its schemas are left to it");
        return Ok(vec![]);
    }
    let cleared = clear(&mut conn, "").await;
    // Released before anything else: the pool keeps the session, and with it a held lock.
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(REBUILD_LOCK)
        .execute(&mut *conn)
        .await?;
    cleared
}

/// Drops every rebuild schema but `own` and every retired schema not marked KEPT. A role that
/// may not drop a schema (the live projection as kaiku_writer) deletes the open texts and dead
/// letters in it instead, so no erased text waits there for the owner's next migration job.
async fn clear(conn: &mut PgConnection, own: &str) -> Result<Vec<String>, ProjectionError> {
    let leftovers: Vec<(String, Option<String>)> = sqlx::query_as(
        "select nspname::text, obj_description(oid, 'pg_namespace')
         from pg_namespace
         where nspname like 'rebuild\\_%' or nspname like 'retired\\_%'
         order by 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut cleared = Vec::new();
    for (schema, comment) in leftovers {
        if schema == own || !is_read_model_schema(&schema) {
            continue;
        }
        if schema.starts_with("retired_") && comment.as_deref() == Some(KEPT) {
            continue;
        }
        // The name is one of the rebuild's own (is_read_model_schema): digits after a prefix.
        let dropped = sqlx::query(AssertSqlSafe(format!("drop schema {schema} cascade")))
            .execute(&mut *conn)
            .await;
        let outcome = match dropped {
            Ok(_) => Ok("dropped a leftover read-model schema"),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(INSUFFICIENT_PRIVILEGE) => {
                empty(conn, &schema).await.map(|()| {
                    "a leftover read-model schema: its texts and dead letters are deleted; `projection --migrate-only` as the owner drops it"
                })
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(what) => {
                tracing::warn!(%schema, "{what}");
                cleared.push(schema);
            }
            // One schema that cannot be cleared (a rebuild that crashed before its migrations
            // granted anything) must not keep the projection from starting.
            Err(error) => {
                tracing::error!(%schema, %error, "cannot clear a leftover read-model schema")
            }
        }
    }
    Ok(cleared)
}

async fn empty(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    for table in ["feedback_text", "dead_letter"] {
        let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null")
            .bind(format!("{schema}.{table}"))
            .fetch_one(&mut *tx)
            .await?;
        if exists {
            sqlx::query(AssertSqlSafe(format!("delete from {schema}.{table}")))
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_rebuilds_own_names_are_used_in_statements() {
        assert!(is_read_model_schema("rebuild_20260315101500"));
        assert!(is_read_model_schema("retired_20260315101500"));
        assert!(is_read_model_schema("retired_20260315101500123456"));
        for name in [
            "public",
            "rebuild_",
            "retired_2026031510150",
            "retired_2026031510150x",
            "rebuild_20260315101500; drop table response",
            "rebuilt_20260315101500",
        ] {
            assert!(!is_read_model_schema(name), "{name}");
        }
    }
}
