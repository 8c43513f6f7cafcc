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

/// Every channel a respondent can answer through.
pub const ALL_CHANNELS: [Channel; 6] = [
    Channel::Paper,
    Channel::Qr,
    Channel::Kiosk,
    Channel::Sms,
    Channel::WebLink,
    Channel::Api,
];

/// The enum a code names (the inverse of the functions above); None for anything else, and for
/// "unspecified", which no caller may choose.
pub fn channel_from_code(code: &str) -> Option<Channel> {
    ALL_CHANNELS.into_iter().find(|c| channel_code(*c) == code)
}

pub fn role_from_code(code: &str) -> Option<RespondentRole> {
    const ALL: [RespondentRole; 3] = [
        RespondentRole::Client,
        RespondentRole::Guardian,
        RespondentRole::Relative,
    ];
    ALL.into_iter().find(|r| role_code(*r) == code)
}

pub fn language_from_code(code: &str) -> Option<Language> {
    const ALL: [Language; 3] = [Language::Fi, Language::Sv, Language::En];
    ALL.into_iter().find(|l| language_code(*l) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_value_and_nothing_else_parses() {
        for raw in 1..=6 {
            let channel = Channel::try_from(raw).expect("known channel");
            assert_eq!(channel_from_code(channel_code(channel)), Some(channel));
        }
        for raw in 1..=3 {
            let role = RespondentRole::try_from(raw).expect("known role");
            assert_eq!(role_from_code(role_code(role)), Some(role));
            let language = Language::try_from(raw).expect("known language");
            assert_eq!(language_from_code(language_code(language)), Some(language));
        }
        for code in ["", "unspecified", "QR", "se", "sms "] {
            assert_eq!(channel_from_code(code), None);
            assert_eq!(role_from_code(code), None);
            assert_eq!(language_from_code(code), None);
        }
    }
}
