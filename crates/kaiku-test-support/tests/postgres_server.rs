//! PostgresServer against a real PostgreSQL cluster made with initdb.

use std::error::Error;

use kaiku_test_support::PostgresServer;
use sqlx::{Connection, PgConnection};

type TestResult = Result<(), Box<dyn Error + Send + Sync>>;

fn database_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default()
}

#[tokio::test]
async fn the_admin_url_connects_as_the_postgres_superuser() -> TestResult {
    let server = PostgresServer::start().await?;
    assert_eq!(
        server.admin_url(),
        format!("postgres://postgres@127.0.0.1:{}/postgres", server.port())
    );

    let mut conn = PgConnection::connect(&server.admin_url()).await?;
    let (user, is_superuser): (String, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await?;

    assert_eq!(user, "postgres");
    assert!(is_superuser);
    Ok(())
}

#[tokio::test]
async fn create_database_twice_gives_two_separate_databases_that_accept_queries() -> TestResult {
    let server = PostgresServer::start().await?;

    let first = server.create_database().await?;
    let second = server.create_database().await?;

    assert_ne!(first, second);
    let mut a = PgConnection::connect(&first).await?;
    let mut b = PgConnection::connect(&second).await?;
    let (name_a,): (String,) = sqlx::query_as("SELECT current_database()::text")
        .fetch_one(&mut a)
        .await?;
    let (name_b,): (String,) = sqlx::query_as("SELECT current_database()::text")
        .fetch_one(&mut b)
        .await?;
    assert_eq!(name_a, database_name(&first));
    assert_eq!(name_b, database_name(&second));

    sqlx::query("CREATE TABLE only_in_first (id int)")
        .execute(&mut a)
        .await?;
    let (visible_in_second,): (Option<String>,) =
        sqlx::query_as("SELECT to_regclass('only_in_first')::text")
            .fetch_one(&mut b)
            .await?;
    assert_eq!(visible_in_second, None);
    Ok(())
}

#[tokio::test]
async fn dropping_the_server_shuts_postgres_down() -> TestResult {
    let server = PostgresServer::start().await?;
    let port = server.port();
    let _idle_client = PgConnection::connect(&server.admin_url()).await?;

    drop(server);

    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
    Ok(())
}
