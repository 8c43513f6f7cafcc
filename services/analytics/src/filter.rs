//! Turning a request's ResponseFilter into the codes the read models store. Pure, so every
//! rejection is tested without a database.

use chrono::NaiveDate;
use kaiku_domain::Violations;
use kaiku_domain::codes::{channel_code, language_code, role_code};
use kaiku_domain::time::LocalDateExt;
use kaiku_proto::analytics::v1::ResponseFilter;
use kaiku_proto::survey::v1::{Channel, Language, LocalDate, RespondentRole};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub unit_ids: Vec<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub channels: Vec<String>,
    /// Never empty: a query names the roles its figures cover (ADR 0015).
    pub respondent_roles: Vec<String>,
    pub professional_groups: Vec<String>,
    pub age_bands: Vec<String>,
    pub languages: Vec<String>,
    pub unit_subtrees: Vec<String>,
    pub period_ids: Vec<String>,
}

pub fn parse_filter(filter: Option<&ResponseFilter>) -> Result<Filter, Violations> {
    let default = ResponseFilter::default();
    let f = filter.unwrap_or(&default);
    let mut v = Violations::new();
    let from = date(&mut v, "filter.from_date", f.from_date.as_ref());
    let to = date(&mut v, "filter.to_date", f.to_date.as_ref());
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        v.add("filter.to_date", format!("{to} is before from_date {from}"));
    }
    let channels = codes(&mut v, "filter.channels", &f.channels, |x| {
        Channel::try_from(x)
            .ok()
            .filter(|c| *c != Channel::Unspecified)
            .map(channel_code)
    });
    let respondent_roles = codes(
        &mut v,
        "filter.respondent_roles",
        &f.respondent_roles,
        |x| {
            RespondentRole::try_from(x)
                .ok()
                .filter(|r| *r != RespondentRole::Unspecified)
                .map(role_code)
        },
    );
    if f.respondent_roles.is_empty() {
        // Not "clients" by default: a guardian's answers silently left out of a figure are as
        // wrong as ones silently mixed in. The caller says whose answers the figure covers.
        v.add(
            "filter.respondent_roles",
            "is required: name the respondent roles the figures cover (client, guardian, \
             relative); roles named together are counted together, so ask once per role or \
             group by DIMENSION_RESPONDENT_ROLE to see them side by side",
        );
    }
    let languages = codes(&mut v, "filter.languages", &f.languages, |x| {
        Language::try_from(x)
            .ok()
            .filter(|l| *l != Language::Unspecified)
            .map(language_code)
    });
    v.into_result(Filter {
        unit_ids: f.unit_ids.clone(),
        from,
        to,
        channels,
        respondent_roles,
        professional_groups: f.professional_groups.clone(),
        age_bands: f.age_bands.clone(),
        languages,
        unit_subtrees: f.unit_subtrees.clone(),
        period_ids: f.period_ids.clone(),
    })
}

fn date(v: &mut Violations, field: &str, date: Option<&LocalDate>) -> Option<NaiveDate> {
    let date = date?;
    let parsed = date.to_naive();
    if parsed.is_none() {
        v.add(
            field,
            format!("{}-{}-{} is not a date", date.year, date.month, date.day),
        );
    }
    parsed
}

fn codes(
    v: &mut Violations,
    field: &str,
    values: &[i32],
    code: impl Fn(i32) -> Option<&'static str>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (i, raw) in values.iter().enumerate() {
        match code(*raw) {
            Some(c) => out.push(c.to_owned()),
            None => v.add(
                format!("{field}[{i}]"),
                format!("unknown or unspecified value {raw}"),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> ResponseFilter {
        ResponseFilter {
            respondent_roles: vec![RespondentRole::Client as i32],
            ..Default::default()
        }
    }

    #[test]
    fn a_query_without_roles_is_refused_naming_the_field() {
        for filter in [None, Some(&ResponseFilter::default())] {
            let err = parse_filter(filter).expect_err("no roles");
            assert_eq!(err.fields(), vec!["filter.respondent_roles"]);
        }
    }

    #[test]
    fn one_named_role_is_all_a_figure_covers() {
        let filter = parse_filter(Some(&clients())).expect("valid");
        assert_eq!(filter.respondent_roles, vec!["client"]);
        assert!(filter.unit_ids.is_empty() && filter.from.is_none());
    }

    #[test]
    fn named_roles_are_mixed_only_when_asked() {
        let filter = parse_filter(Some(&ResponseFilter {
            respondent_roles: vec![
                RespondentRole::Client as i32,
                RespondentRole::Guardian as i32,
            ],
            ..Default::default()
        }))
        .expect("valid");
        assert_eq!(filter.respondent_roles, vec!["client", "guardian"]);
    }

    #[test]
    fn impossible_dates_and_reversed_ranges_are_refused() {
        let err = parse_filter(Some(&ResponseFilter {
            from_date: Some(LocalDate {
                year: 2026,
                month: 2,
                day: 30,
            }),
            ..clients()
        }))
        .expect_err("invalid");
        assert_eq!(err.fields(), vec!["filter.from_date"]);
        let err = parse_filter(Some(&ResponseFilter {
            from_date: Some(LocalDate {
                year: 2026,
                month: 5,
                day: 2,
            }),
            to_date: Some(LocalDate {
                year: 2026,
                month: 5,
                day: 1,
            }),
            ..clients()
        }))
        .expect_err("reversed");
        assert_eq!(err.fields(), vec!["filter.to_date"]);
    }

    #[test]
    fn unspecified_enum_values_are_refused_naming_the_index() {
        let err = parse_filter(Some(&ResponseFilter {
            channels: vec![1, 0],
            languages: vec![99],
            ..clients()
        }))
        .expect_err("invalid");
        assert_eq!(
            err.fields(),
            vec!["filter.channels[1]", "filter.languages[0]"]
        );
    }
}
