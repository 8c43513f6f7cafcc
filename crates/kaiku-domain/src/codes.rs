//! The short, stable codes dimensions are stored under in the read models ("paper", "client",
//! "fi"). One mapping, used by the projection when writing and by analytics when filtering.

use kaiku_proto::survey::v1::{Channel, Language, RespondentRole};

pub fn channel_code(channel: Channel) -> &'static str {
    match channel {
        Channel::Unspecified => "unspecified",
        Channel::Paper => "paper",
        Channel::Qr => "qr",
        Channel::Kiosk => "kiosk",
        Channel::Sms => "sms",
        Channel::WebLink => "web_link",
        Channel::Api => "api",
    }
}

pub fn role_code(role: RespondentRole) -> &'static str {
    match role {
        RespondentRole::Unspecified => "unspecified",
        RespondentRole::Client => "client",
        RespondentRole::Guardian => "guardian",
        RespondentRole::Relative => "relative",
    }
}

pub fn language_code(language: Language) -> &'static str {
    match language {
        Language::Unspecified => "unspecified",
        Language::Fi => "fi",
        Language::Sv => "sv",
        Language::En => "en",
    }
}

/// Codes of raw enum values as carried in messages; unknown values map to "unspecified".
pub fn channel_code_of(raw: i32) -> &'static str {
    channel_code(Channel::try_from(raw).unwrap_or(Channel::Unspecified))
}

pub fn role_code_of(raw: i32) -> &'static str {
    role_code(RespondentRole::try_from(raw).unwrap_or(RespondentRole::Unspecified))
}

pub fn language_code_of(raw: i32) -> &'static str {
    language_code(Language::try_from(raw).unwrap_or(Language::Unspecified))
}
