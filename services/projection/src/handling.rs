//! KAIKU_HANDLING into `handling_case`: one row per case with its unit, kind, dates and state,
//! for the handling reports. Applied inside the batch's transaction like the survey stream, so
//! the same checkpoint rule gives it the same exactly-once guarantee. The sealed content is
//! never read: the row says only whether it has been erased. No exact times either: days and
//! the handling time in hours, so no row can be matched with an anonymous answer's time.

use chrono::{DateTime, Utc};
use kaiku_domain::handling::kind_code;
use kaiku_domain::time::{from_timestamp, helsinki_date};
use kaiku_proto::handling::v1::{CaseEvent, CaseOrigin, case_event::Kind};
use prost::Message;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::apply::{Applied, Rejected, to_i64};

fn origin_code(origin: i32) -> &'static str {
    match CaseOrigin::try_from(origin) {
        Ok(CaseOrigin::ContactRequest) => "contact_request",
        Ok(CaseOrigin::FreeForm) => "free_form",
        Ok(CaseOrigin::Phone) => "phone",
        Ok(CaseOrigin::Unspecified) | Err(_) => "unspecified",
    }
}

pub async fn case_event(
    tx: &mut Transaction<'_, Postgres>,
    payload: &[u8],
    sequence: u64,
) -> Applied {
    let event = match CaseEvent::decode(payload) {
        Ok(event) => event,
        Err(e) => return Ok(Err(Rejected::Undecodable(e.to_string()))),
    };
    let Ok(case_id) = Uuid::parse_str(&event.case_id) else {
        return Ok(Err(Rejected::Inconsistent(format!(
            "case_id {:?} is not a UUID",
            event.case_id
        ))));
    };
    let Some(at) = event.occurred_at.as_ref().and_then(from_timestamp) else {
        return Ok(Err(Rejected::Inconsistent("event has no time".into())));
    };
    let seq = to_i64(sequence);
    let conn: &mut PgConnection = tx;
    let update = |sql: &'static str| sqlx::query(sql).bind(case_id).bind(seq);
    match event.kind {
        None => return Ok(Err(Rejected::Undecodable("event has no kind".into()))),
        Some(Kind::Opened(opened)) => {
            let received_at: Option<DateTime<Utc>> =
                opened.received_at.as_ref().and_then(from_timestamp);
            let (Some(received_at), Ok(due)) = (
                received_at,
                opened.reply_due_on.parse::<chrono::NaiveDate>(),
            ) else {
                return Ok(Err(Rejected::Inconsistent(
                    "opened without a receiving time or due day".into(),
                )));
            };
            sqlx::query(
                "insert into handling_case (case_id, unit_id, kind, origin, channel, contact_requested,
                     received_on, reply_due_on, state, last_sequence)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, 'received', $9)
                 on conflict (case_id) do nothing",
            )
            .bind(case_id)
            .bind(&opened.unit_id)
            .bind(kind_code(opened.kind))
            .bind(origin_code(opened.origin))
            .bind(&opened.channel)
            .bind(opened.contact_requested)
            .bind(helsinki_date(received_at))
            .bind(due)
            .bind(seq)
            .execute(&mut *conn)
            .await?;
            return Ok(Ok(()));
        }
        Some(Kind::Assigned(assigned)) => {
            // As the case aggregate: a new handler or unit puts a received case to "assigned"
            // (back to "received" when it moves to a unit without a handler).
            update(
                "update handling_case set
                     state = case when state = 'replied' or (state = 'in_progress' and unit_id = $3)
                                  then state
                                  else case when $4 = '' then 'received' else 'assigned' end end,
                     unit_id = $3, last_sequence = $2
                 where case_id = $1",
            )
            .bind(&assigned.unit_id)
            .bind(&assigned.assignee)
            .execute(&mut *conn)
            .await?;
        }
        Some(Kind::Started(_)) => {
            update("update handling_case set state = 'in_progress', last_sequence = $2 where case_id = $1")
                .execute(&mut *conn)
                .await?;
        }
        Some(Kind::Replied(replied)) => {
            update(
                "update handling_case set state = 'replied', replied = true,
                     handled_on = coalesce(handled_on, $3),
                     handling_hours = coalesce(handling_hours, $4), last_sequence = $2
                 where case_id = $1",
            )
            .bind(helsinki_date(at))
            .bind(replied.hours_since_received)
            .execute(&mut *conn)
            .await?;
        }
        Some(Kind::Closed(closed)) => {
            update(
                "update handling_case set state = 'closed', closed = true,
                     handled_on = coalesce(handled_on, $3),
                     handling_hours = coalesce(handling_hours, $4), last_sequence = $2
                 where case_id = $1",
            )
            .bind(helsinki_date(at))
            .bind(closed.hours_since_received)
            .execute(&mut *conn)
            .await?;
        }
        Some(Kind::Escalated(escalated)) => {
            update(
                "update handling_case set escalated_to = $3, last_sequence = $2 where case_id = $1",
            )
            .bind(&escalated.to_unit_id)
            .execute(&mut *conn)
            .await?;
        }
        Some(Kind::ContentErased(_)) => {
            update("update handling_case set content_erased = true, last_sequence = $2 where case_id = $1")
                .execute(&mut *conn)
                .await?;
        }
        Some(
            Kind::ContentSealed(_)
            | Kind::NoteAdded(_)
            | Kind::ActionRecorded(_)
            | Kind::Reminded(_),
        ) => {
            update("update handling_case set last_sequence = $2 where case_id = $1")
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(Ok(()))
}
