//! NatsServer against a real nats-server: JetStream works, and data outlives a crash.

use std::error::Error;
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use kaiku_test_support::NatsServer;

type TestResult = Result<(), Box<dyn Error + Send + Sync>>;

const STREAM: &str = "KAIKU_TEST";
const SUBJECT: &str = "kaiku.test.hello";

async fn jetstream_for(
    server: &NatsServer,
) -> Result<jetstream::Context, async_nats::ConnectError> {
    // async-nats does not log in with the URL's user, so the admin's password is given here.
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .user_and_password(
            "admin".into(),
            server.password("admin").unwrap_or_default().into(),
        )
        .connect(server.address())
        .await?;
    Ok(jetstream::new(client))
}

async fn create_stream(
    js: &jetstream::Context,
) -> Result<stream::Stream, Box<dyn Error + Send + Sync>> {
    let stream = js
        .create_stream(stream::Config {
            name: STREAM.to_owned(),
            subjects: vec!["kaiku.test.>".to_owned()],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await?;
    Ok(stream)
}

async fn publish(
    js: &jetstream::Context,
    id: &str,
    payload: &'static str,
) -> Result<u64, Box<dyn Error + Send + Sync>> {
    let ack = js
        .send_publish(
            SUBJECT,
            PublishMessage::build()
                .payload(payload.into())
                .message_id(id),
        )
        .await?
        .await?;
    Ok(ack.sequence)
}

#[tokio::test]
async fn a_started_server_stores_and_acks_a_jetstream_publish() -> TestResult {
    let server = NatsServer::start().await?;
    assert_eq!(
        server.address(),
        format!("nats://127.0.0.1:{}", server.port())
    );
    let js = jetstream_for(&server).await?;
    let stream = create_stream(&js).await?;

    let sequence = publish(&js, "msg-1", "hello").await?;

    assert_eq!(sequence, 1);
    let stored = stream.get_raw_message(sequence).await?;
    assert_eq!(stored.subject.as_str(), SUBJECT);
    assert_eq!(stored.payload.as_ref(), b"hello");
    Ok(())
}

#[tokio::test]
async fn an_acked_message_survives_kill_and_restart_on_the_same_port() -> TestResult {
    let mut server = NatsServer::start().await?;
    let port = server.port();
    let js = jetstream_for(&server).await?;
    create_stream(&js).await?;
    let sequence = publish(&js, "msg-1", "before the crash").await?;
    drop(js);

    server.kill().await?;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "a killed server must not accept connections"
    );
    server.restart().await?;

    assert_eq!(server.port(), port);
    let js = jetstream_for(&server).await?;
    let mut stream = js.get_stream(STREAM).await?;
    assert_eq!(stream.info().await?.state.messages, 1);
    let stored = stream.get_raw_message(sequence).await?;
    assert_eq!(stored.payload.as_ref(), b"before the crash");
    assert_eq!(
        publish(&js, "msg-2", "after the restart").await?,
        sequence + 1
    );
    Ok(())
}

#[tokio::test]
async fn dropping_the_server_stops_it() -> TestResult {
    let server = NatsServer::start().await?;
    let port = server.port();

    drop(server);

    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
    Ok(())
}

/// Streams reserve their `max_bytes` against the server's store limit. Left to itself,
/// nats-server sets that limit to 75% of the disk free when it starts, and on a nearly full CI
/// disk every service then failed to create KAIKU_AUDIT (1 GiB). The test server has a fixed
/// limit, so a reservation larger than a nearly full disk has free is accepted; without the
/// limit this fails on any machine with less than 20 GiB free.
#[tokio::test]
async fn a_stream_may_reserve_more_than_a_nearly_full_disk_has_free() -> TestResult {
    let server = NatsServer::start().await?;
    let js = jetstream_for(&server).await?;
    let reserved: i64 = 15 * 1024 * 1024 * 1024;

    let mut stream = js
        .create_stream(stream::Config {
            name: STREAM.to_owned(),
            subjects: vec!["kaiku.test.>".to_owned()],
            storage: stream::StorageType::File,
            max_bytes: reserved,
            ..Default::default()
        })
        .await?;

    assert_eq!(stream.info().await?.config.max_bytes, reserved);
    Ok(())
}
