//! Sending SMS through a provider. One real implementation: a JSON-over-HTTP API of the kind
//! Finnish SMS operators offer (a POST with recipient, sender and text, bearer-token auth); a
//! county with another API adds an implementation of `SmsProvider`.

use std::time::Duration;

use crate::phone::PhoneNumber;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("SMS provider unreachable: {0}")]
    Unreachable(String),
    #[error("SMS provider refused the message: HTTP {status}")]
    Refused { status: u16 },
}

pub trait SmsProvider: Send + Sync + 'static {
    fn send(
        &self,
        to: &PhoneNumber,
        text: &str,
    ) -> impl std::future::Future<Output = Result<(), ProviderError>> + Send;
}

/// POSTs `{"to": "+358…", "from": sender, "text": …}` to `url` with `Authorization: Bearer`.
#[derive(Clone)]
pub struct HttpProvider {
    client: reqwest::Client,
    url: String,
    token: String,
    sender: String,
}

impl HttpProvider {
    pub fn new(url: &str, token: &str, sender: &str) -> Result<HttpProvider, ProviderError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        Ok(HttpProvider {
            client,
            url: url.to_owned(),
            token: token.to_owned(),
            sender: sender.to_owned(),
        })
    }
}

impl SmsProvider for HttpProvider {
    async fn send(&self, to: &PhoneNumber, text: &str) -> Result<(), ProviderError> {
        let body = serde_json::json!({ "to": to.as_str(), "from": self.sender, "text": text });
        let response = self
            .client
            .post(&self.url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            // The error text can carry the URL, never the number: reqwest does not log bodies.
            .map_err(|e| ProviderError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(ProviderError::Refused {
                status: status.as_u16(),
            })
        }
    }
}
