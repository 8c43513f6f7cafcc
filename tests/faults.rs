//! The fault suite (`make test-faults`): load from kaiku-load while processes crash, servers
//! restart, connections are cut and poison arrives. The load generator's record of every
//! acknowledged submission is the oracle: each run ends with the read models equal to it,
//! nothing lost, nothing doubled, nothing stored that was not acknowledged.
//!
//! Each scenario prints a `FAULTS <scenario>: acknowledged=N faults=M ...` line.

use std::time::Duration;

use async_nats::HeaderMap;
use kaiku_eventstore::{EVENT_TYPE_HEADER, RESPONSES_STREAM, response_subject};
use kaiku_load::drive::Running;
use kaiku_load::workload::load_survey;
use kaiku_load::{Clients, Mode, RunConfig, RunReport, Stop};
use kaiku_proto::events::v1::{ResponseEvent, response_event::Kind};
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::survey::v1::{GetSurveyRequest, UpdateDraftRequest};
use kaiku_system_tests::{Stack, TestResult};
use prost::Message;
use tonic::Code;

const UNITS: [&str; 3] = ["fault-unit-1", "fault-unit-2", "fault-unit-3"];

struct Fixture {
    stack: Stack,
    survey_id: String,
    units: Vec<String>,
}

async fn fixture(extra_env: &[(&'static str, String)]) -> TestResult<Fixture> {
    // Group size 1: the verification compares exact NPS counts per role with analytics.
    let mut env = vec![("KAIKU_MIN_GROUP_SIZE", "1".to_owned())];
    env.extend_from_slice(extra_env);
    let stack = Stack::start_with_env(&env).await?;
    let mut surveys = stack.surveys().await?;
    for unit in kaiku_domain::fixtures::fixture_units(&UNITS) {
        surveys.create_unit(unit).await?;
    }
    let survey_id = stack.publish(load_survey(&UNITS)).await?;
    Ok(Fixture {
        stack,
        survey_id,
        units: UNITS.iter().map(|u| (*u).to_owned()).collect(),
    })
}

impl Fixture {
    async fn clients(&self) -> TestResult<Clients> {
        let channel = self
            .stack
            .channel_as("response-intake", &self.stack.service_token)
            .await?;
        Ok(Clients {
            intake: ResponseIntakeClient::new(channel),
            analytics: None,
        })
    }

    /// Steady load through unary calls and streams, each submission retried with its id until
    /// acknowledged (for up to two minutes), as adapters with durable queues do.
    fn load(&self, rate: f64) -> RunConfig {
        RunConfig {
            mode: Mode::Mixed { unary_percent: 50 },
            rate: Some(rate),
            workers: 8,
            window: 32,
            stop: Stop::After(Duration::from_secs(600)),
            retry_for: Some(Duration::from_secs(120)),
            ..RunConfig::new(&self.survey_id, &self.units)
        }
    }

    async fn start(&self, config: RunConfig) -> TestResult<Running> {
        Ok(kaiku_load::drive::start(&self.clients().await?, config)?)
    }

    /// Waits until the run has `count` more acknowledgements than now (at most 60 s).
    async fn progress(&self, running: &Running, count: u64) -> TestResult {
        let target = running.acknowledged() + count;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while running.acknowledged() < target {
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "no progress: {} acknowledged, waiting for {target}\n{}",
                    running.acknowledged(),
                    self.stack.logs()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// The oracle: the read models (rows and analytics' figures) equal the record exactly, and
    /// nothing was given up on.
    async fn assert_exact(
        &self,
        scenario: &str,
        report: &RunReport,
        faults: usize,
    ) -> TestResult<kaiku_load::Verification> {
        let pool = self.stack.database().await?;
        let mut analytics = self.stack.analytics().await?;
        let verification = kaiku_load::verify(
            &pool,
            &report.record,
            Some(&mut analytics),
            Duration::from_secs(120),
        )
        .await?;
        println!(
            "FAULTS {scenario}: acknowledged={} faults={faults} retries={} duplicate_replies={} stored_twice={} refused={} | {verification}",
            report.record.len(),
            report.retries,
            report.record.duplicate_replies(),
            report.record.stored_twice(),
            report.refused_total(),
        );
        assert!(
            verification.is_exact(),
            "{scenario}: {verification}\n{}",
            self.stack.logs()
        );
        assert_eq!(
            report.refused_total(),
            0,
            "{scenario}: {:?}",
            report.refused
        );
        assert!(!report.record.is_empty());
        let (dead,): (i64,) = sqlx::query_as("select count(*) from dead_letter")
            .fetch_one(&pool)
            .await?;
        assert_eq!(dead, 0, "{scenario}: dead letters");
        Ok(verification)
    }
}

/// JetStream as the operators' user (async-nats ignores a password in the URL).
async fn admin_jetstream(stack: &Stack) -> TestResult<async_nats::jetstream::Context> {
    let client = async_nats::ConnectOptions::with_user_and_password(
        "admin".to_owned(),
        stack.nats.password("admin").unwrap_or_default().to_owned(),
    )
    .connect(stack.nats.address())
    .await?;
    Ok(async_nats::jetstream::new(client))
}

/// A small deterministic spread of pauses (ms), so kills land at varied points.
fn pause(i: usize, from_ms: u64, to_ms: u64) -> Duration {
    let spread = (i as u64).wrapping_mul(2_654_435_761) % (to_ms - from_ms);
    Duration::from_millis(from_ms + spread)
}

#[tokio::test]
async fn the_projection_killed_twenty_times_under_load_loses_and_doubles_nothing() -> TestResult {
    // Small batches: a kill lands between commits, inside a transaction, or while decoding.
    let mut f = fixture(&[("KAIKU_PROJECTION_BATCH_SIZE", "200".to_owned())]).await?;
    let running = f.start(f.load(500.0)).await?;
    let mut kills = 0;
    for i in 0..20 {
        f.progress(&running, 50).await?;
        tokio::time::sleep(pause(i, 0, 400)).await;
        f.stack.kill("projection").await?;
        kills += 1;
        f.stack.start_service("projection").await?;
    }
    running.stop();
    let report = running.finish().await?;
    f.assert_exact("projection SIGKILL", &report, kills).await?;
    Ok(())
}

#[tokio::test]
async fn intake_killed_between_append_and_reply_acknowledges_each_retry_once() -> TestResult {
    let mut f = fixture(&[]).await?;
    // Saturation with many calls in flight: a kill finds some appended but not yet answered,
    // and their retries (same submission id, within the duplicate window) are answered as
    // duplicates of what is stored.
    let running = f
        .start(RunConfig {
            rate: None,
            workers: 24,
            mode: Mode::Unary,
            ..f.load(1.0)
        })
        .await?;
    let mut kills = 0;
    while kills < 30 && (kills < 3 || running.duplicate_replies() == 0) {
        f.progress(&running, 200).await?;
        tokio::time::sleep(pause(kills, 0, 150)).await;
        f.stack.kill("response-intake").await?;
        kills += 1;
        f.stack.start_service("response-intake").await?;
    }
    f.progress(&running, 200).await?;
    running.stop();
    let report = running.finish().await?;
    let verification = f
        .assert_exact("intake SIGKILL, retries within the window", &report, kills)
        .await?;
    assert_eq!(verification.first_copy_unacknowledged, 0);
    assert!(
        report.record.duplicate_replies() > 0,
        "no kill landed between append and reply in {kills} kills"
    );
    assert_eq!(report.record.stored_twice(), 0);
    Ok(())
}

#[tokio::test]
async fn intake_killed_and_retried_beyond_the_duplicate_window_is_counted_once() -> TestResult {
    // A one-second window and retries that wait two: JetStream stores a retried submission a
    // second time, and the read model must still count it once.
    let mut f = fixture(&[("KAIKU_DUPLICATE_WINDOW", "1s".to_owned())]).await?;
    let running = f
        .start(RunConfig {
            rate: None,
            workers: 24,
            mode: Mode::Unary,
            retry_after: Duration::from_secs(2),
            ..f.load(1.0)
        })
        .await?;
    let mut kills = 0;
    for i in 0..5 {
        f.progress(&running, 300).await?;
        tokio::time::sleep(pause(i, 0, 150)).await;
        f.stack.kill("response-intake").await?;
        kills += 1;
        f.stack.start_service("response-intake").await?;
    }
    f.progress(&running, 300).await?;
    running.stop();
    let report = running.finish().await?;
    let verification = f
        .assert_exact("intake SIGKILL, retries beyond the window", &report, kills)
        .await?;
    // Each kill finds calls appended but not answered; their retries come after the window.
    let second_copies = verification.first_copy_unacknowledged + report.record.stored_twice();
    assert!(
        second_copies > 0,
        "no retry was stored twice in {kills} kills"
    );
    // The stream holds each acknowledged submission once, plus each second copy.
    let mut stream = admin_jetstream(&f.stack)
        .await?
        .get_stream(RESPONSES_STREAM)
        .await?;
    let messages = stream.info().await?.state.messages;
    assert_eq!(messages, (report.record.len() + second_copies) as u64);
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Server {
    Nats,
    Postgres,
}

/// SIGKILLs a server three times under load and starts it again on the same store.
async fn server_killed_under_load(server: Server) -> TestResult {
    let mut f = fixture(&[]).await?;
    let running = f.start(f.load(400.0)).await?;
    let mut kills = 0;
    for i in 0..3 {
        f.progress(&running, 300).await?;
        tokio::time::sleep(pause(i, 0, 300)).await;
        match server {
            Server::Nats => f.stack.nats.kill().await?,
            Server::Postgres => f.stack.postgres.kill().await?,
        }
        kills += 1;
        tokio::time::sleep(Duration::from_millis(700)).await;
        match server {
            Server::Nats => f.stack.nats.restart().await?,
            Server::Postgres => f.stack.postgres.restart().await?,
        }
    }
    f.progress(&running, 300).await?;
    running.stop();
    let report = running.finish().await?;
    f.assert_exact(&format!("{server:?} SIGKILL"), &report, kills)
        .await?;
    assert_eq!(f.stack.nats_refusals(), Vec::<String>::new());
    Ok(())
}

#[tokio::test]
async fn nats_killed_and_restarted_under_load_loses_nothing_acknowledged() -> TestResult {
    server_killed_under_load(Server::Nats).await
}

#[tokio::test]
async fn postgres_killed_and_restarted_under_load_loses_nothing_acknowledged() -> TestResult {
    server_killed_under_load(Server::Postgres).await
}

#[tokio::test]
async fn the_projections_connection_cut_mid_transaction_loses_and_doubles_nothing() -> TestResult {
    let f = fixture(&[("KAIKU_PROJECTION_BATCH_SIZE", "200".to_owned())]).await?;
    let running = f.start(f.load(600.0)).await?;
    let admin = sqlx::PgPool::connect(&f.stack.postgres.admin_url()).await?;
    let mut cuts = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while cuts < 10 {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("only {cuts} connections caught in a transaction").into());
        }
        // Only a backend with an open transaction: the cut lands between its writes and the
        // commit that would advance the checkpoint.
        let cut: Vec<(bool,)> = sqlx::query_as(
            "select pg_terminate_backend(pid) from pg_stat_activity
             where usename = 'kaiku_projection' and xact_start is not null
               and state in ('active', 'idle in transaction')",
        )
        .fetch_all(&admin)
        .await?;
        let hit = cut.iter().filter(|(ok,)| *ok).count();
        if hit > 0 {
            cuts += hit;
            f.progress(&running, 100).await?;
        } else {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    running.stop();
    let report = running.finish().await?;
    f.assert_exact("projection connection cut in a transaction", &report, cuts)
        .await?;
    Ok(())
}

#[tokio::test]
async fn poison_events_are_dead_lettered_with_the_checkpoint_and_processing_goes_on() -> TestResult
{
    let mut f = fixture(&[]).await?;
    let running = f.start(f.load(300.0)).await?;
    f.progress(&running, 200).await?;

    // Written straight to the stream, as a buggy or newer writer could.
    let jetstream = admin_jetstream(&f.stack).await?;
    let subject = response_subject(&f.survey_id);
    let valid = ResponseEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        survey_id: f.survey_id.clone(),
        occurred_at: None,
        kind: Some(Kind::Submitted(Default::default())),
    }
    .encode_to_vec();
    // Field 15 (length-delimited): a kind this projection does not know, as a newer schema
    // would write.
    let future_schema = {
        let mut bytes = ResponseEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            survey_id: f.survey_id.clone(),
            occurred_at: None,
            kind: None,
        }
        .encode_to_vec();
        bytes.extend_from_slice(&[0x7a, 0x03, 0x0a, 0x01, 0x78]);
        bytes
    };
    let poisons: [(&str, Vec<u8>); 3] = [
        ("ResponseSubmitted", valid[..valid.len() / 2].to_vec()),
        ("ResponseTeleported", vec![0xff, 0xff, 0xff, 0x01]),
        ("ResponseSubmittedV2", future_schema),
    ];
    let mut sequences = Vec::new();
    for (event_type, payload) in poisons {
        let mut headers = HeaderMap::new();
        headers.insert(EVENT_TYPE_HEADER, event_type);
        let ack = jetstream
            .publish_with_headers(subject.clone(), headers, payload.into())
            .await?
            .await?;
        sequences.push(ack.sequence);
        f.progress(&running, 50).await?;
    }
    // A crash right after: the dead letters and the checkpoint committed together or not at
    // all, so the restarted projection neither loses nor repeats them.
    f.stack.kill("projection").await?;
    f.stack.start_service("projection").await?;
    f.progress(&running, 200).await?;
    running.stop();
    let report = running.finish().await?;

    let pool = f.stack.database().await?;
    kaiku_load::verify::wait_for_checkpoint(
        &pool,
        report.record.max_sequence(),
        Duration::from_secs(60),
    )
    .await?;
    let dead: Vec<(i64, String)> =
        sqlx::query_as("select sequence, reason from dead_letter order by sequence")
            .fetch_all(&pool)
            .await?;
    let dead_sequences: Vec<u64> = dead.iter().map(|(s, _)| *s as u64).collect();
    assert_eq!(dead_sequences, sequences, "{dead:?}");
    println!("dead letters: {dead:?}");
    sqlx::query("delete from dead_letter")
        .execute(&pool)
        .await?;
    f.assert_exact("poison events", &report, 3 + 1).await?;
    Ok(())
}

#[tokio::test]
async fn a_full_nats_store_refuses_with_resource_exhausted_and_never_acknowledges_it() -> TestResult
{
    let f = fixture(&[]).await?;
    // The store fills: KAIKU_RESPONSES gets room for about two megabytes more (its discard
    // policy is "new", so JetStream refuses what does not fit). A server-wide
    // `max_file_store` does not do this on nats-server 2.9: it only limits what streams
    // reserve, and a stream without its own limit was measured taking 140 MB past it.
    let jetstream = admin_jetstream(&f.stack).await?;
    let mut stream = jetstream.get_stream(RESPONSES_STREAM).await?;
    let info = stream.info().await?;
    let mut config = info.config.clone();
    config.max_bytes = i64::try_from(info.state.bytes)? + 2_000_000;
    jetstream.update_stream(config).await?;

    let running = f
        .start(RunConfig {
            rate: None,
            workers: 8,
            mode: Mode::Mixed { unary_percent: 50 },
            retry_for: None,
            ..f.load(1.0)
        })
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while running.refused() < 100 {
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "the store did not fill: {} acknowledged\n{}",
                running.acknowledged(),
                f.stack.logs()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.stop();
    let report = running.finish().await?;
    let codes: Vec<&String> = report.refused.keys().collect();
    assert_eq!(codes, vec!["ResourceExhausted"], "{:?}", report.refused);
    // Everything acknowledged is stored and counted; nothing refused is.
    let pool = f.stack.database().await?;
    let mut analytics = f.stack.analytics().await?;
    let verification = kaiku_load::verify(
        &pool,
        &report.record,
        Some(&mut analytics),
        Duration::from_secs(60),
    )
    .await?;
    let stored = stream.info().await?.state.messages;
    println!(
        "FAULTS full NATS store: acknowledged={} refused={} faults=1 stored={stored} | {verification}",
        report.record.len(),
        report.refused_total(),
    );
    assert!(verification.is_exact(), "{verification}");
    // Not `stored == acknowledged`: in 1 of about 10 runs nats-server 2.9 held a few messages
    // fewer than it had acknowledged (4,039 of 4,045; all 4,045 were in the read models), as if
    // it enforced the byte limit by dropping the oldest once concurrent publishes overshot it.
    // Kaiku's streams have no limits for that reason (docs/operations.md); never more are kept
    // than were acknowledged.
    assert!(stored <= report.record.len() as u64, "stored {stored}");
    Ok(())
}

#[tokio::test]
async fn fifty_concurrent_edits_with_the_same_expected_revision_leave_one_winner() -> TestResult {
    let f = fixture(&[]).await?;
    let mut surveys = f.stack.surveys().await?;
    let draft = surveys
        .create_survey(kaiku_proto::survey::v1::CreateSurveyRequest {
            survey_id: String::new(),
            draft: Some(load_survey(&UNITS)),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("no survey")?;
    let edits = (0..50).map(|i| {
        let mut client = surveys.clone();
        let mut content = load_survey(&UNITS);
        content.titles = kaiku_domain::fixtures::texts(
            &format!("Muokkaus {i}"),
            &format!("Redigering {i}"),
            &format!("Edit {i}"),
        );
        let request = UpdateDraftRequest {
            survey_id: draft.survey_id.clone(),
            expected_revision: draft.revision,
            draft: Some(content),
        };
        tokio::spawn(async move { client.update_draft(request).await.map(|_| i) })
    });
    let mut winners = Vec::new();
    let mut losers = std::collections::BTreeMap::<String, usize>::new();
    for edit in futures::future::join_all(edits).await {
        match edit? {
            Ok(i) => winners.push(i),
            Err(status) => *losers.entry(format!("{:?}", status.code())).or_default() += 1,
        }
    }
    println!("FAULTS concurrent edits: winners={winners:?} losers={losers:?}");
    assert_eq!(winners.len(), 1, "{losers:?}");
    assert_eq!(losers.values().sum::<usize>(), 49);
    assert!(
        losers
            .keys()
            .all(|code| code == &format!("{:?}", Code::Aborted)
                || code == &format!("{:?}", Code::FailedPrecondition)),
        "{losers:?}"
    );
    let survey = surveys
        .get_survey(GetSurveyRequest {
            survey_id: draft.survey_id.clone(),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("no survey")?;
    assert!(survey.revision > draft.revision);
    let title = survey
        .draft
        .and_then(|d| d.titles.into_iter().find(|t| t.text.starts_with("Edit ")))
        .map(|t| t.text);
    assert_eq!(title, Some(format!("Edit {}", winners[0])));
    Ok(())
}

/// A tmpfs of a few megabytes, mounted for one test and unmounted when dropped: a disk that
/// fills up for real. Needs root (as `make test` and CI have for the container tests).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str, owner: &str) -> TestResult<SmallDisk> {
        let dir = tempfile::Builder::new().prefix("kaiku-full-").tempdir()?;
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()?;
        if !mounted.success() {
            return Err(
                "mount -t tmpfs failed: this scenario needs root, as `make test` has".into(),
            );
        }
        let disk = SmallDisk { dir };
        let user = nix::unistd::User::from_name(owner)?.ok_or("no such user")?;
        std::os::unix::fs::chown(
            disk.dir.path(),
            Some(user.uid.as_raw()),
            Some(user.gid.as_raw()),
        )?;
        Ok(disk)
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("--lazy")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn a_full_database_holds_the_projection_back_and_loses_nothing() -> TestResult {
    let f = fixture(&[
        ("KAIKU_PROJECTION_BATCH_SIZE", "200".to_owned()),
        ("KAIKU_CONSISTENCY_WAIT", "2s".to_owned()),
    ])
    .await?;
    // The response rows go to a tablespace on a 3 MB disk, which the load fills.
    let owner = if nix::unistd::Uid::effective().is_root() {
        "postgres"
    } else {
        return Err("this scenario needs root to mount a small disk, as `make test` has".into());
    };
    let disk = SmallDisk::mount("3m", owner)?;
    let database = f
        .stack
        .database_url
        .rsplit('/')
        .next()
        .ok_or("database name")?;
    let admin_url = f.stack.postgres.admin_url();
    let superuser = sqlx::PgPool::connect(&format!(
        "{}/{database}",
        admin_url.trim_end_matches("/postgres")
    ))
    .await?;
    let location = disk.path().to_string_lossy().replace('\'', "''");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "create tablespace kaiku_small location '{location}'"
    )))
    .execute(&superuser)
    .await?;
    sqlx::raw_sql("alter table response set tablespace kaiku_small")
        .execute(&superuser)
        .await?;

    let running = f.start(f.load(800.0)).await?;
    // Until the projection cannot write: the disk is full, and it retries the batch.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !f
        .stack
        .log("projection")
        .contains("No space left on device")
    {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("the disk did not fill\n{}", f.stack.logs()).into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Intake goes on acknowledging: the answers are stored in NATS, not in the database.
    f.progress(&running, 500).await?;
    // What the read model has not stored, analytics does not claim: asked for the latest
    // acknowledged sequence, it answers UNAVAILABLE.
    let behind = f
        .stack
        .analytics()
        .await?
        .get_nps(kaiku_proto::analytics::v1::GetNpsRequest {
            survey_id: f.survey_id.clone(),
            question_key: String::new(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: running.max_sequence(),
            grouping: None,
        })
        .await;
    assert_eq!(
        behind.as_ref().err().map(tonic::Status::code),
        Some(Code::Unavailable),
        "{behind:?}"
    );

    // Room again: the table moves back, the projection's retry goes through.
    sqlx::raw_sql("alter table response set tablespace pg_default")
        .execute(&superuser)
        .await?;
    f.progress(&running, 500).await?;
    running.stop();
    let report = running.finish().await?;
    f.assert_exact("full database", &report, 1).await?;
    sqlx::raw_sql("drop tablespace kaiku_small")
        .execute(&superuser)
        .await?;
    drop(disk);
    Ok(())
}
