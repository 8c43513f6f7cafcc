//! What every handler shares: the application state, the signed-in person, the page language,
//! rendering a page or an error, and checking a form's CSRF token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::accounts::LocalAccounts;
use crate::backend::{Backend, Clients};
use crate::error::ConsoleError;
use crate::layout::{Frame, Section, page};
use crate::session::{COOKIE, Session, Sessions, same_token};
use crate::texts::{Texts, texts};

pub const LANGUAGE_COOKIE: &str = "kaiku_console_lang";

pub struct AppState {
    pub backend: Backend,
    pub sessions: Sessions,
    /// Empty when only the identity provider signs people in.
    pub accounts: LocalAccounts,
    pub oidc: Option<crate::oidc::Oidc>,
    /// Signs respondent links as the web form does; none when the console has no link keys.
    pub links: Option<LinkSigner>,
    /// Where scheduled reports are written; none when there are none.
    pub report_dir: Option<std::path::PathBuf>,
    /// Password checks (Argon2) allowed at once.
    pub password_checks: tokio::sync::Semaphore,
    /// Cookies get `Secure` when the console is reached over HTTPS.
    pub secure_cookies: bool,
}

pub type SharedState = Arc<AppState>;

pub struct LinkSigner {
    pub keys: kaiku_links::LinkKeys,
    pub web_form_url: String,
}

/// One request's context: language, path for the language links, and the session if any.
pub struct Context {
    pub texts: &'static Texts,
    pub here: String,
    /// Set when the request chose a language with `?lang=`, to remember it.
    pub chosen_language: Option<&'static str>,
    pub session: Option<(String, Session)>,
}

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

impl Context {
    pub fn new(
        state: &AppState,
        headers: &HeaderMap,
        path: &str,
        query: &HashMap<String, String>,
    ) -> Context {
        let chosen = query.get("lang").map(String::as_str);
        let remembered = cookie(headers, LANGUAGE_COOKIE);
        let accepted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|tag| tag.trim().get(..2).unwrap_or(""));
        let texts = texts(chosen.or(remembered).or(accepted));
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in query
            .iter()
            .filter(|(k, _)| k.as_str() != "lang" && k.as_str() != "saved")
        {
            serializer.append_pair(key, value);
        }
        let rest = serializer.finish();
        let here = if rest.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{rest}")
        };
        let session = cookie(headers, COOKIE)
            .and_then(|id| state.sessions.get(id).map(|s| (id.to_owned(), s)));
        Context {
            texts,
            here,
            chosen_language: chosen.filter(|c| texts.tag == *c).map(|_| texts.tag),
            session,
        }
    }

    /// The signed-in session, or a redirect to the login page that comes back here.
    pub fn require_session(&self) -> Result<&Session, Redirect> {
        match &self.session {
            Some((_, session)) => Ok(session),
            None => {
                let next =
                    form_urlencoded::byte_serialize(self.here.as_bytes()).collect::<String>();
                Err(Redirect::to(&format!("/login?next={next}")))
            }
        }
    }

    pub fn clients(&self, state: &AppState) -> Result<Clients, ConsoleError> {
        let session = self
            .session
            .as_ref()
            .ok_or_else(|| ConsoleError::Forbidden("not signed in".into()))?;
        state.backend.clients(&session.1.staff)
    }

    pub fn render(
        &self,
        title: &str,
        section: Section,
        status: StatusCode,
        body: Markup,
    ) -> Response {
        let frame = Frame {
            texts: self.texts,
            title,
            section,
            session: self.session.as_ref().map(|(_, s)| s),
            here: &self.here,
        };
        let mut response = (status, Html(page(&frame, body).into_string())).into_response();
        self.remember_language(response.headers_mut());
        response
    }

    /// A page's body rendered in the frame, or its error's page.
    pub fn page(
        &self,
        title: &str,
        section: Section,
        status: StatusCode,
        body: Result<Markup, ConsoleError>,
    ) -> Response {
        match body {
            Ok(body) => self.render(title, section, status, body),
            Err(e) => self.error(&e),
        }
    }

    pub fn remember_language(&self, headers: &mut HeaderMap) {
        if let Some(tag) = self.chosen_language
            && let Ok(value) = HeaderValue::from_str(&format!(
                "{LANGUAGE_COOKIE}={tag}; Path=/; Max-Age=31536000; SameSite=Lax"
            ))
        {
            headers.append(header::SET_COOKIE, value);
        }
    }

    /// The error's page: what went wrong, in words the person can act on.
    pub fn error(&self, error: &ConsoleError) -> Response {
        let t = self.texts;
        let status = error.status();
        if status.is_server_error() {
            tracing::error!(%error, "console request failed");
        }
        let body = html! {
            h1 { (t.error_title) }
            div.problem role="alert" { p { (error.to_string()) } }
            p { a href="/results" { (t.back) } }
        };
        self.render(t.error_title, Section::Results, status, body)
    }

    /// Refuses a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, form_token: Option<&str>) -> Result<&Session, ConsoleError> {
        let session = self
            .session
            .as_ref()
            .map(|(_, s)| s)
            .ok_or(ConsoleError::Forgery)?;
        match form_token {
            Some(token) if same_token(token, &session.csrf) => Ok(session),
            _ => Err(ConsoleError::Forgery),
        }
    }
}

/// The session cookie's header value; `max_age` 0 deletes it.
pub fn session_cookie(state: &AppState, id: &str, max_age: Option<u64>) -> Option<HeaderValue> {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}{age}"
    ))
    .ok()
}

/// The first value of a repeated form or query field.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Only paths of this console: never another site (an open redirect) or a scheme-relative URL.
pub fn local_path(next: Option<&str>) -> String {
    // Visible ASCII only: browsers drop tabs and newlines from a Location, so "/\t/evil"
    // would become "//evil", another site.
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.bytes().all(|b| (0x21..=0x7e).contains(&b)) =>
        {
            path.to_owned()
        }
        _ => "/results".to_owned(),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_in_any_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1"));
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("b=2; kaiku_console_session=abc"),
        );
        assert_eq!(cookie(&headers, COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(local_path(Some("/review?unit=a")), "/review?unit=a");
        assert_eq!(local_path(Some("//evil.example")), "/results");
        assert_eq!(local_path(Some("https://evil.example")), "/results");
        assert_eq!(local_path(Some("/\\evil.example")), "/results");
        assert_eq!(local_path(Some("/\t/evil.example")), "/results");
        assert_eq!(local_path(Some("/\r\nSet-Cookie: x=1")), "/results");
        assert_eq!(local_path(Some("/results?unit=a b")), "/results");
        assert_eq!(local_path(None), "/results");
    }
}
