//! The county's own places to turn to, from the environment: the school's kuraattori or nurse
//! (for children and young people), the wellbeing services county's social emergency service and
//! the patient and social welfare ombudsman (for adults). Names are per language, numbers are
//! shown as tap-to-call links. The national numbers (112, 116 111, the crisis line) are not
//! configuration: they are the same in every county (`guidance`).

use std::str::FromStr;

use kaiku_proto::survey::v1::Language;

/// A phone number as written for people ("09 2525 0111", "+358 40 123 4567") and as dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    shown: String,
}

impl PhoneNumber {
    /// The number as written.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The `tel:` link: digits only, with the leading + of an international number (RFC 3966
    /// allows separators, but not every phone's dialler does).
    pub fn href(&self) -> String {
        let digits: String = self.shown.chars().filter(char::is_ascii_digit).collect();
        if self.shown.starts_with('+') {
            format!("tel:+{digits}")
        } else {
            format!("tel:{digits}")
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelpConfigError {
    #[error(
        "{0:?} is not a phone number: use digits, spaces and dashes, optionally a leading +, 3-15 digits"
    )]
    Phone(String),
    #[error("{0:?}: give one name for every language, or \"fi:...|sv:...|en:...\"")]
    Names(String),
}

impl FromStr for PhoneNumber {
    type Err = HelpConfigError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let shown = raw.trim();
        let digits = shown.chars().filter(char::is_ascii_digit).count();
        let allowed = shown.char_indices().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (i == 0 && c == '+')
        });
        if allowed && (3..=15).contains(&digits) {
            Ok(PhoneNumber {
                shown: shown.to_owned(),
            })
        } else {
            Err(HelpConfigError::Phone(raw.to_owned()))
        }
    }
}

/// A name in each language; a language not given falls back to Finnish, then to the default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names {
    fi: Option<String>,
    sv: Option<String>,
    en: Option<String>,
}

impl Names {
    pub fn new(fi: &str, sv: &str, en: &str) -> Self {
        Names {
            fi: Some(fi.to_owned()),
            sv: Some(sv.to_owned()),
            en: Some(en.to_owned()),
        }
    }

    fn get(&self, language: Language) -> Option<&str> {
        match language {
            Language::Sv => self.sv.as_deref(),
            Language::En => self.en.as_deref(),
            Language::Fi | Language::Unspecified => self.fi.as_deref(),
        }
    }

    /// The name in `language`, else in Finnish, else `default`'s.
    pub fn in_language<'a>(&'a self, language: Language, default: &'a Names) -> &'a str {
        self.get(language)
            .or(self.fi.as_deref())
            .or_else(|| default.get(language))
            .unwrap_or_default()
    }
}

impl FromStr for Names {
    type Err = HelpConfigError;

    /// "Name" (every language) or "fi:Nimi|sv:Namn|en:Name" (any of them).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || HelpConfigError::Names(raw.to_owned());
        fn tagged(part: &str) -> Option<(&'static str, &str)> {
            ["fi:", "sv:", "en:"]
                .into_iter()
                .find_map(|tag| part.trim().strip_prefix(tag).map(|rest| (tag, rest.trim())))
        }
        let parts: Vec<&str> = raw.split('|').collect();
        if parts.len() == 1 && tagged(raw).is_none() {
            let name = raw.trim();
            return if name.is_empty() {
                Err(bad())
            } else {
                Ok(Names::new(name, name, name))
            };
        }
        let mut names = Names::default();
        for part in parts {
            let (tag, name) = tagged(part).ok_or_else(bad)?;
            let slot = match tag {
                "fi:" => &mut names.fi,
                "sv:" => &mut names.sv,
                _ => &mut names.en,
            };
            if name.is_empty() || slot.is_some() {
                return Err(bad());
            }
            *slot = Some(name.to_owned());
        }
        Ok(names)
    }
}

/// One place to turn to: its name, and its number when the county has given one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub names: Option<Names>,
    pub phone: Option<PhoneNumber>,
}

/// The county's places to turn to, as configured (`web-form --help`); the default is nothing
/// configured (the built-in names, no numbers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpContacts {
    /// The school kuraattori or nurse, for children and young people.
    pub school: Contact,
    /// The wellbeing services county's social emergency service (sosiaalipäivystys), for adults.
    pub social_emergency: Contact,
    /// The patient and social welfare ombudsman, who advises on a formal objection (muistutus).
    pub ombudsman: Contact,
}

/// A contact in one language: what to call it, and its number when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub name: &'a str,
    pub phone: Option<&'a PhoneNumber>,
}

impl Contact {
    pub fn line<'a>(&'a self, language: Language, default: &'a Names) -> Line<'a> {
        Line {
            name: self.names.as_ref().map_or_else(
                || default.in_language(language, default),
                |n| n.in_language(language, default),
            ),
            phone: self.phone.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(raw: &str) -> Result<PhoneNumber, HelpConfigError> {
        raw.parse()
    }

    #[test]
    fn a_number_is_dialled_with_digits_only_and_an_international_plus_kept() {
        assert_eq!(phone("116 111").map(|p| p.href()), Ok("tel:116111".into()));
        assert_eq!(
            phone("+358 40 123-4567").map(|p| p.href()),
            Ok("tel:+358401234567".into())
        );
        assert_eq!(
            phone(" 09 2525 0111 ").map(|p| p.shown().to_owned()),
            Ok("09 2525 0111".into())
        );
    }

    #[test]
    fn what_is_not_a_phone_number_is_refused() {
        for raw in [
            "",
            "12",
            "040 123 4567 ext 5",
            "04+0123",
            "1234567890123456",
        ] {
            assert!(phone(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn one_name_serves_every_language() {
        let names: Names = "Sosiaalipäivystys".parse().expect("a name");
        let default = Names::default();
        assert_eq!(
            names.in_language(Language::Sv, &default),
            "Sosiaalipäivystys"
        );
    }

    #[test]
    fn tagged_names_fall_back_to_finnish() {
        let names: Names = "fi:Kuraattori | sv:Kurator".parse().expect("names");
        let default = Names::new("a", "b", "c");
        assert_eq!(names.in_language(Language::Sv, &default), "Kurator");
        assert_eq!(names.in_language(Language::En, &default), "Kuraattori");
    }

    #[test]
    fn untagged_parts_empty_names_and_repeated_languages_are_refused() {
        for raw in ["fi:Kuraattori|Kurator", "fi:|sv:Kurator", "fi:a|fi:b", " "] {
            assert!(raw.parse::<Names>().is_err(), "{raw:?}");
        }
    }

    #[test]
    fn an_unconfigured_contact_uses_the_default_name_and_has_no_number() {
        let contact = Contact {
            names: None,
            phone: None,
        };
        let default = Names::new("Sosiaalipäivystys", "Socialjouren", "Social emergency");
        assert_eq!(
            contact.line(Language::En, &default),
            Line {
                name: "Social emergency",
                phone: None
            }
        );
    }
}
