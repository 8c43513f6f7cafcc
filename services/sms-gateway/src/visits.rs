//! Visit events as the patient or client record system delivers them (JSON or CSV), checked
//! field by field. A batch with any invalid visit is refused whole, with every problem named,
//! so nothing of it is stored and the sender can fix and resend it.

use chrono::{DateTime, Utc};
use kaiku_domain::Violations;
use serde::Deserialize;

use crate::phone::PhoneNumber;

/// One visit as delivered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitEvent {
    /// The record system's id of the visit; only a keyed hash of it is kept.
    pub visit_id: String,
    pub unit_id: String,
    /// RFC 3339, e.g. 2026-11-24T12:30:00+02:00.
    pub visited_at: String,
    pub age: u32,
    pub phone: String,
    /// The language in the client record; fi and sv are used as such, anything else gets English.
    #[serde(default)]
    pub language: String,
    pub sms_consent: bool,
    pub non_disclosure: bool,
    #[serde(default)]
    pub professional_group: String,
}

/// A visit whose fields are all valid.
#[derive(Debug, Clone)]
pub struct Visit {
    pub visit_id: String,
    pub unit_id: String,
    pub visited_at: DateTime<Utc>,
    pub age: u32,
    pub phone: PhoneNumber,
    pub language: String,
    pub sms_consent: bool,
    pub non_disclosure: bool,
    pub professional_group: String,
}

const MAX_AGE: u32 = 130;

fn check(event: &VisitEvent, prefix: &str, v: &mut Violations) -> Option<Visit> {
    let field = |name: &str| format!("{prefix}{name}");
    if event.visit_id.trim().is_empty() {
        v.add(field("visit_id"), "is required");
    }
    if event.unit_id.trim().is_empty() {
        v.add(field("unit_id"), "is required");
    }
    let visited_at = DateTime::parse_from_rfc3339(event.visited_at.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            v.add(
                field("visited_at"),
                format!(
                    "{:?} is not an RFC 3339 time like 2026-11-24T12:30:00+02:00",
                    event.visited_at
                ),
            )
        })
        .ok();
    if event.age > MAX_AGE {
        v.add(
            field("age"),
            format!("must be 0..{MAX_AGE}, got {}", event.age),
        );
    }
    let phone = PhoneNumber::parse(&event.phone)
        .map_err(|e| v.add(field("phone"), e.to_string()))
        .ok();
    Some(Visit {
        visit_id: event.visit_id.trim().to_owned(),
        unit_id: event.unit_id.trim().to_owned(),
        visited_at: visited_at?,
        age: event.age,
        phone: phone?,
        language: event.language.trim().to_owned(),
        sms_consent: event.sms_consent,
        non_disclosure: event.non_disclosure,
        professional_group: event.professional_group.trim().to_owned(),
    })
}

/// Every visit valid, or every problem by field (`visits[i].phone`).
pub fn check_all(events: &[VisitEvent]) -> Result<Vec<Visit>, Violations> {
    let mut v = Violations::new();
    if events.is_empty() {
        v.add("visits", "is empty");
    }
    let visits: Vec<Option<Visit>> = events
        .iter()
        .enumerate()
        .map(|(i, e)| check(e, &format!("visits[{i}]."), &mut v))
        .collect();
    if !v.is_empty() {
        return Err(v);
    }
    Ok(visits.into_iter().flatten().collect())
}

/// The CSV columns, in any order, named in a header line.
const CSV_COLUMNS: [&str; 9] = [
    "visit_id",
    "unit_id",
    "visited_at",
    "age",
    "phone",
    "language",
    "sms_consent",
    "non_disclosure",
    "professional_group",
];

/// Visits from CSV with a header line (comma or semicolon separated; no quoted commas: none of
/// the fields holds one). Errors name the line and column, e.g. `line 3: age`.
pub fn parse_csv(text: &str) -> Result<Vec<VisitEvent>, Violations> {
    let mut v = Violations::new();
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(Violations::single(
            "csv",
            "is empty: expected a header line and visits",
        ));
    };
    let separator = if header.contains(';') { ';' } else { ',' };
    let names: Vec<String> = header
        .split(separator)
        .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    for name in &names {
        if !CSV_COLUMNS.contains(&name.as_str()) {
            v.add(
                "csv.header",
                format!(
                    "unknown column {name:?}; columns are {}",
                    CSV_COLUMNS.join(", ")
                ),
            );
        }
    }
    for required in &CSV_COLUMNS[..8] {
        if !names.iter().any(|n| n == required) {
            v.add("csv.header", format!("column {required:?} is missing"));
        }
    }
    if !v.is_empty() {
        return Err(v);
    }
    let mut events = Vec::new();
    for (index, line) in lines {
        let line_no = index + 1;
        let cells: Vec<&str> = line
            .split(separator)
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        if cells.len() != names.len() {
            v.add(
                format!("line {line_no}"),
                format!("has {} fields, the header {}", cells.len(), names.len()),
            );
            continue;
        }
        let cell = |name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .and_then(|i| cells.get(i))
                .copied()
                .unwrap_or("")
        };
        let flag = |name: &str, v: &mut Violations| match cell(name).to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "kyllä" | "k" | "y" => true,
            "0" | "false" | "no" | "ei" | "e" | "n" => false,
            other => {
                v.add(
                    format!("line {line_no}: {name}"),
                    format!("{other:?} is not true or false"),
                );
                false
            }
        };
        let age = match cell("age").parse::<u32>() {
            Ok(age) => age,
            Err(_) => {
                v.add(
                    format!("line {line_no}: age"),
                    format!("{:?} is not a whole number of years", cell("age")),
                );
                0
            }
        };
        let event = VisitEvent {
            visit_id: cell("visit_id").to_owned(),
            unit_id: cell("unit_id").to_owned(),
            visited_at: cell("visited_at").to_owned(),
            age,
            phone: cell("phone").to_owned(),
            language: cell("language").to_owned(),
            sms_consent: flag("sms_consent", &mut v),
            non_disclosure: flag("non_disclosure", &mut v),
            professional_group: cell("professional_group").to_owned(),
        };
        let mut line_violations = Violations::new();
        check(&event, &format!("line {line_no}: "), &mut line_violations);
        v.extend(line_violations);
        events.push(event);
    }
    if events.is_empty() && v.is_empty() {
        v.add("csv", "holds a header but no visits");
    }
    v.into_result(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> VisitEvent {
        VisitEvent {
            visit_id: "v-1".into(),
            unit_id: "hc-1".into(),
            visited_at: "2026-11-24T12:30:00+02:00".into(),
            age: 40,
            phone: "040 123 4567".into(),
            language: "fi".into(),
            sms_consent: true,
            non_disclosure: false,
            professional_group: String::new(),
        }
    }

    /// Every field a sender can get wrong, and what they are told.
    #[test]
    fn each_invalid_field_is_named() {
        type Change = fn(&mut VisitEvent);
        let cases: &[(Change, &str, &str)] = &[
            (
                |e| e.visit_id = " ".into(),
                "visits[1].visit_id",
                "is required",
            ),
            (|e| e.unit_id.clear(), "visits[1].unit_id", "is required"),
            (
                |e| e.visited_at = "24.11.2026".into(),
                "visits[1].visited_at",
                "\"24.11.2026\" is not an RFC 3339 time like 2026-11-24T12:30:00+02:00",
            ),
            (|e| e.age = 200, "visits[1].age", "must be 0..130, got 200"),
            (
                |e| e.phone = "12".into(),
                "visits[1].phone",
                "is not a phone number: use +358 40 123 4567 or 040 123 4567",
            ),
        ];
        for (change, field, description) in cases {
            let mut bad = event();
            change(&mut bad);
            let violations = check_all(&[event(), bad]).expect_err("refused");
            let got: Vec<(String, String)> = violations
                .iter()
                .map(|v| (v.field.clone(), v.description.clone()))
                .collect();
            assert_eq!(got, vec![((*field).to_owned(), (*description).to_owned())]);
        }
        assert!(check_all(&[]).is_err());
        assert_eq!(check_all(&[event()]).map(|v| v.len()), Ok(1));
    }

    #[test]
    fn csv_with_a_header_in_any_order_and_either_separator() {
        let text = "phone;visit_id;unit_id;visited_at;age;language;sms_consent;non_disclosure\n\
                    040 123 4567;v-1;hc-1;2026-11-24T12:30:00+02:00;40;sv;kyllä;ei\n\n\
                    +358 50 1234567;v-2;hc-1;2026-11-24T13:00:00+02:00;71;fi;1;0\n";
        let events = parse_csv(text).expect("valid");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].language, "sv");
        assert!(events[0].sms_consent && !events[0].non_disclosure);
        assert_eq!(events[1].age, 71);
    }

    #[test]
    fn csv_errors_name_the_line_and_column() {
        let text = "visit_id,unit_id,visited_at,age,phone,language,sms_consent,non_disclosure\n\
                    v-1,hc-1,2026-11-24T12:30:00+02:00,forty,040 123 4567,fi,maybe,0\n\
                    v-2,hc-1\n";
        let violations = parse_csv(text).expect_err("refused");
        let fields = violations.fields();
        assert_eq!(fields, vec!["line 2: age", "line 2: sms_consent", "line 3"]);
        let missing = parse_csv("visit_id,unit_id\nx,y\n").expect_err("refused");
        assert!(
            missing
                .iter()
                .any(|v| v.description == "column \"visited_at\" is missing")
        );
        let unknown = parse_csv(
            "visit_id,unit_id,visited_at,age,phone,language,sms_consent,non_disclosure,hetu\n",
        )
        .expect_err("refused");
        assert!(
            unknown
                .iter()
                .any(|v| v.description.starts_with("unknown column \"hetu\""))
        );
        assert!(parse_csv("").is_err());
    }
}
