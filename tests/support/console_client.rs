//! The staff console as a plain HTTP client sees it: signing in, reading pages and reports with
//! the session cookie, posting forms with the CSRF token, and reading a PDF report as text.

use crate::TestResult;

/// A signed-in HTTP client of the console: its session cookie and CSRF token.
pub struct Signed {
    pub client: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

pub fn plain_client() -> TestResult<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

pub async fn sign_in(base: &str, username: &str, password: &str) -> TestResult<Signed> {
    let client = plain_client()?;
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", username)
        .append_pair("password", password)
        .append_pair("next", "/results")
        .finish();
    let reply = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    assert_eq!(reply.status(), 303, "signing in as {username}");
    let cookie = reply
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("no session cookie")?
        .to_owned();
    let page = client
        .get(format!("{base}/review?lang=en"))
        .header("cookie", &cookie)
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf\" value=\"";
    let start = page
        .find(marker)
        .ok_or("no CSRF token on the review page")?
        + marker.len();
    let csrf = page[start..].chars().take_while(|c| *c != '"').collect();
    Ok(Signed {
        client,
        base: base.to_owned(),
        cookie,
        csrf,
    })
}

impl Signed {
    pub async fn get(&self, path: &str) -> TestResult<(u16, String)> {
        let reply = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        Ok((reply.status().as_u16(), reply.text().await?))
    }

    pub async fn get_bytes(&self, path: &str) -> TestResult<(u16, String, Vec<u8>)> {
        let reply = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        let status = reply.status().as_u16();
        let content_type = reply
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((status, content_type, reply.bytes().await?.to_vec()))
    }

    /// Posts `fields` (with the session's CSRF token unless `csrf` is false).
    pub async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> TestResult<(u16, String)> {
        let mut body = form_urlencoded::Serializer::new(String::new());
        if csrf {
            body.append_pair("csrf", &self.csrf);
        }
        for (k, v) in fields {
            body.append_pair(k, v);
        }
        let reply = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish())
            .send()
            .await?;
        Ok((reply.status().as_u16(), reply.text().await?))
    }
}

pub fn pdftotext(pdf: &[u8]) -> TestResult<String> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf)?;
    let output = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "pdftotext failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(output.stdout)?)
}
