//! A mail relay for tests: speaks enough SMTP to accept what feedback-handling sends and keeps
//! each message (envelope and text) for the test to read. It is the other end of a real TCP
//! conversation, as the county's relay would be.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::TestResult;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent, dot-stuffing undone.
    pub text: String,
}

pub struct MailSink {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MailSink {
    pub async fn start() -> TestResult<MailSink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    if let Ok(mail) = converse(socket).await
                        && let Ok(mut received) = store.lock()
                    {
                        received.extend(mail);
                    }
                });
            }
        });
        Ok(MailSink {
            port,
            received,
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits until a message to `address` whose text contains `needle` has arrived.
    pub async fn wait_for(
        &self,
        address: &str,
        needle: &str,
        timeout: Duration,
    ) -> TestResult<ReceivedMail> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(mail) = self
                .received()
                .into_iter()
                .find(|m| m.to.iter().any(|to| to == address) && m.text.contains(needle))
            {
                return Ok(mail);
            }
            if tokio::time::Instant::now() > until {
                return Err(format!(
                    "no mail to {address} containing {needle:?} within {timeout:?}; got {:#?}",
                    self.received()
                )
                .into());
            }
            // Mail arrives from another process: nothing to await but the sink itself.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn converse(socket: tokio::net::TcpStream) -> std::io::Result<Option<ReceivedMail>> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 test-relay ESMTP\r\n").await?;
    let mut mail = ReceivedMail::default();
    let mut complete = None;
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(complete);
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            write
                .write_all(b"250-test-relay\r\n250 8BITMIME\r\n")
                .await?;
        } else if let Some(from) = upper.strip_prefix("MAIL FROM:") {
            mail = ReceivedMail {
                from: command[command.len() - from.len()..]
                    .trim_matches(['<', '>', ' '])
                    .to_owned(),
                ..ReceivedMail::default()
            };
            write.write_all(b"250 OK\r\n").await?;
        } else if let Some(to) = upper.strip_prefix("RCPT TO:") {
            mail.to.push(
                command[command.len() - to.len()..]
                    .trim_matches(['<', '>', ' '])
                    .to_owned(),
            );
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            loop {
                let mut data = String::new();
                if lines.read_line(&mut data).await? == 0 {
                    return Ok(complete);
                }
                if data == ".\r\n" {
                    break;
                }
                mail.text.push_str(data.strip_prefix('.').unwrap_or(&data));
            }
            complete = Some(std::mem::take(&mut mail));
            write.write_all(b"250 queued\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(complete);
        } else {
            write.write_all(b"502 not here\r\n").await?;
        }
    }
}
