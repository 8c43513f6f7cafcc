//! A small SMTP client: enough to hand a plain-text notice to the county's mail relay (EHLO,
//! STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA). `smtp://host:25` talks plain SMTP to a relay inside
//! the cluster; `smtp+starttls://user:password@host:587` upgrades to TLS (checked against the
//! system's roots) before anything else is said.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How long one conversation with the relay may take.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("KAIKU_SMTP_URL: {0}")]
    Url(String),
    #[error("mail relay {host}: {reason}")]
    Io { host: String, reason: String },
    #[error("mail relay {host} answered {reply:?} to {command}")]
    Refused {
        host: String,
        command: String,
        reply: String,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub starttls: bool,
    pub login: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpSettings {
    // The relay password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .field("user", &self.login.as_ref().map(|(user, _)| user))
            .finish()
    }
}

impl SmtpSettings {
    pub fn parse(url: &str) -> Result<Self, SmtpError> {
        let (starttls, rest) = if let Some(rest) = url.strip_prefix("smtp+starttls://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("smtp://") {
            (false, rest)
        } else {
            return Err(SmtpError::Url(
                "must start with smtp:// or smtp+starttls://".into(),
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (login, address) = match rest.rsplit_once('@') {
            Some((login, address)) => {
                let (user, password) = login.split_once(':').ok_or_else(|| {
                    SmtpError::Url("write the login as user:password@host".into())
                })?;
                (Some((user.to_owned(), password.to_owned())), address)
            }
            None => (None, rest),
        };
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (
                host,
                // Not echoed: with the host missing, this would be the password.
                port.parse().map_err(|_| {
                    SmtpError::Url("the part after the last ':' is not a port".into())
                })?,
            ),
            None => (address, if starttls { 587 } else { 25 }),
        };
        if host.is_empty() {
            return Err(SmtpError::Url("no host".into()));
        }
        if login.is_some() && !starttls && !is_loopback(host) {
            return Err(SmtpError::Url(
                "a password is sent only over smtp+starttls:// (or to localhost)".into(),
            ));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            starttls,
            login,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `address` can go into an envelope and a header as it is: `local@domain`, no
/// spaces, controls or angle brackets (nothing that could end a command or add a header).
pub fn is_plain_address(address: &str) -> bool {
    address.len() <= 254
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && address
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
}

/// One message: plain text, UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

pub async fn send(settings: &SmtpSettings, mail: &Mail) -> Result<(), SmtpError> {
    let host = settings.host.clone();
    match tokio::time::timeout(TIMEOUT, converse(settings, mail)).await {
        Ok(result) => result,
        Err(_) => Err(SmtpError::Io {
            host,
            reason: format!("no answer within {TIMEOUT:?}"),
        }),
    }
}

async fn converse(settings: &SmtpSettings, mail: &Mail) -> Result<(), SmtpError> {
    let io = |e: std::io::Error| SmtpError::Io {
        host: settings.host.clone(),
        reason: e.to_string(),
    };
    let tcp = TcpStream::connect((settings.host.as_str(), settings.port))
        .await
        .map_err(io)?;
    let mut session = Session::new(tcp, &settings.host);
    session.expect("greeting", 220).await?;
    session.command("EHLO kaiku", 250).await?;
    if settings.starttls {
        session.command("STARTTLS", 220).await?;
        let tcp = session.stream.into_inner();
        let tls = tls_connector()
            .map_err(|reason| SmtpError::Io {
                host: settings.host.clone(),
                reason,
            })?
            .connect(
                rustls::pki_types::ServerName::try_from(settings.host.clone()).map_err(|e| {
                    SmtpError::Url(format!("{:?} is not a host name: {e}", settings.host))
                })?,
                tcp,
            )
            .await
            .map_err(io)?;
        let mut session = Session::new(tls, &settings.host);
        session.command("EHLO kaiku", 250).await?;
        deliver(&mut session, settings, mail).await
    } else {
        deliver(&mut session, settings, mail).await
    }
}

async fn deliver<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<S>,
    settings: &SmtpSettings,
    mail: &Mail,
) -> Result<(), SmtpError> {
    if let Some((user, password)) = &settings.login {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        session
            .command_hidden(&format!("AUTH PLAIN {token}"), "AUTH PLAIN", 235)
            .await?;
    }
    session
        .command(&format!("MAIL FROM:<{}>", mail.from), 250)
        .await?;
    // One refused recipient (a mistyped routing address) does not cost the others the notice.
    let mut accepted = 0;
    let mut refused = None;
    for to in &mail.to {
        match session.command(&format!("RCPT TO:<{to}>"), 250).await {
            Ok(()) => accepted += 1,
            Err(error @ SmtpError::Refused { .. }) => {
                tracing::warn!(%error, "a notice recipient was refused");
                refused = Some(error);
            }
            Err(other) => return Err(other),
        }
    }
    if accepted == 0 {
        return Err(refused.unwrap_or_else(|| SmtpError::Url("no recipients".into())));
    }
    session.command("DATA", 354).await?;
    session.send_raw(&message_text(mail)).await?;
    session.expect("the message", 250).await?;
    // The message is accepted; a relay that hangs up without a goodbye changes nothing.
    let _ = session.command("QUIT", 221).await;
    Ok(())
}

/// Headers and body, dot-stuffed, ending with the lone dot.
pub fn message_text(mail: &Mail) -> String {
    let date = chrono::Utc::now().to_rfc2822();
    let id = uuid::Uuid::new_v4();
    let domain = mail.from.rsplit_once('@').map_or("kaiku", |(_, d)| d);
    let mut text = format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: <{id}@{domain}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
        mail.from,
        mail.to.join(", "),
        encode_header(&mail.subject),
    );
    for line in mail.body.lines() {
        if line.starts_with('.') {
            text.push('.');
        }
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str(".\r\n");
    text
}

/// RFC 2047 for a subject with letters outside ASCII (ä, ö, å).
fn encode_header(value: &str) -> String {
    let value: String = value.chars().filter(|c| !c.is_control()).collect();
    if value.is_ascii() {
        value
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
        )
    }
}

fn tls_connector() -> Result<tokio_rustls::TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A certificate the store cannot parse is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

struct Session<S> {
    stream: BufReader<S>,
    host: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    fn new(stream: S, host: &str) -> Self {
        Self {
            stream: BufReader::new(stream),
            host: host.to_owned(),
        }
    }

    fn io(&self, e: std::io::Error) -> SmtpError {
        SmtpError::Io {
            host: self.host.clone(),
            reason: e.to_string(),
        }
    }

    async fn send_raw(&mut self, text: &str) -> Result<(), SmtpError> {
        let stream = self.stream.get_mut();
        let result = async {
            stream.write_all(text.as_bytes()).await?;
            stream.flush().await
        }
        .await;
        result.map_err(|e| self.io(e))
    }

    async fn command(&mut self, line: &str, code: u16) -> Result<(), SmtpError> {
        self.command_hidden(line, line, code).await
    }

    /// Sends `line`; an error names it as `shown` (an AUTH line carries the password).
    async fn command_hidden(
        &mut self,
        line: &str,
        shown: &str,
        code: u16,
    ) -> Result<(), SmtpError> {
        self.send_raw(&format!("{line}\r\n")).await?;
        self.expect(shown, code).await
    }

    /// Reads one (possibly multi-line) reply and checks its code.
    async fn expect(&mut self, command: &str, code: u16) -> Result<(), SmtpError> {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let read = self
                .stream
                .read_line(&mut line)
                .await
                .map_err(|e| self.io(e))?;
            if read == 0 {
                return Err(SmtpError::Io {
                    host: self.host.clone(),
                    reason: format!("closed the connection after {command}"),
                });
            }
            reply.push_str(line.trim_end());
            // "250-..." continues, "250 ..." ends the reply.
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
            reply.push(' ');
        }
        let accepted = reply.get(..3).and_then(|c| c.parse::<u16>().ok()) == Some(code)
            // RCPT may answer 251 (forwarded).
            || (code == 250 && reply.starts_with("251"));
        if accepted {
            Ok(())
        } else {
            Err(SmtpError::Refused {
                host: self.host.clone(),
                command: command.to_owned(),
                reply,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_relay_and_never_send_a_password_in_the_clear() {
        let plain = SmtpSettings::parse("smtp://relay.example:2525").expect("plain");
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.starttls),
            ("relay.example", 2525, false)
        );
        let tls = SmtpSettings::parse("smtp+starttls://kaiku:s3cret@mail.example").expect("tls");
        assert_eq!((tls.port, tls.starttls), (587, true));
        assert_eq!(tls.login, Some(("kaiku".into(), "s3cret".into())));
        assert!(!format!("{tls:?}").contains("s3cret"));
        assert!(SmtpSettings::parse("smtp://kaiku:pw@mail.example").is_err());
        assert!(SmtpSettings::parse("smtp://kaiku:pw@127.0.0.1:25").is_ok());
        assert!(SmtpSettings::parse("http://mail.example").is_err());
        assert!(SmtpSettings::parse("smtp://mail.example:x").is_err());
    }

    #[test]
    fn the_message_is_dot_stuffed_and_the_subject_encoded() {
        let text = message_text(&Mail {
            from: "kaiku@example.fi".into(),
            to: vec!["a@example.fi".into(), "b@example.fi".into()],
            subject: "Palaute odottaa käsittelyä".into(),
            body: "rivi\n.piste\nloppu".into(),
        });
        assert!(text.contains("To: a@example.fi, b@example.fi\r\n"));
        assert!(text.contains("Subject: =?UTF-8?B?"));
        assert!(text.contains("\r\n..piste\r\n"));
        assert!(text.ends_with("loppu\r\n.\r\n"));
    }
}
