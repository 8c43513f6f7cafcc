//! E-mail notices to handlers: a case arrived, was assigned to you, is due tomorrow, is late.
//! A notice says which case and by when, and links to it in the console; it never carries the
//! feedback or the respondent's contact details (e-mail is not a safe place for them).

use std::collections::BTreeMap;
use std::path::Path;

use kaiku_domain::handling::{CaseFile, kind_code};
use kaiku_domain::unit::UnitTree;
use serde::Deserialize;

use crate::smtp::{Mail, SmtpSettings, send};

/// Who hears of a unit's cases: `units` maps a unit id to the addresses notified of its cases
/// (a unit without its own hears through its nearest ancestor that has some); `people` maps a
/// staff member's subject to their address, for cases assigned to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    #[serde(default)]
    pub units: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub people: BTreeMap<String, String>,
}

impl Routing {
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The JSON, with every address checked (they go into SMTP commands and headers).
    pub fn parse(text: &str) -> Result<Self, String> {
        let routing: Routing = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let addresses = routing
            .units
            .iter()
            .flat_map(|(unit, list)| list.iter().map(move |a| (unit.as_str(), a)))
            .chain(routing.people.iter().map(|(who, a)| (who.as_str(), a)));
        for (whose, address) in addresses {
            if !crate::smtp::is_plain_address(address) {
                return Err(format!("{whose}: {address:?} is not an e-mail address"));
            }
        }
        Ok(routing)
    }

    /// The addresses for `unit_id`: its own, or its nearest ancestor's.
    pub fn unit_addresses(&self, tree: &UnitTree, unit_id: &str) -> Vec<String> {
        tree.lineage(unit_id)
            .into_iter()
            .find_map(|unit| self.units.get(unit).filter(|a| !a.is_empty()))
            .cloned()
            .unwrap_or_default()
    }

    pub fn person_address(&self, subject: &str) -> Option<String> {
        self.people.get(subject).cloned()
    }
}

/// Why a notice is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    Received,
    Assigned,
    DueTomorrow,
    Late,
}

#[derive(Clone)]
pub struct Notifier {
    pub routing: Routing,
    pub smtp: Option<SmtpSettings>,
    pub from: String,
    /// The console's address, for a link to the case.
    pub console_url: Option<String>,
    pub metrics: crate::HandlingMetrics,
}

impl Notifier {
    /// Who to tell about `case` on `occasion`: the assignee when there is one and they have an
    /// address; otherwise (and for a late case, always) the unit's addresses.
    pub fn recipients(&self, tree: &UnitTree, case: &CaseFile, occasion: Occasion) -> Vec<String> {
        let assignee = self.routing.person_address(&case.assignee);
        match occasion {
            Occasion::Assigned => assignee.into_iter().collect(),
            Occasion::Received => self.routing.unit_addresses(tree, &case.unit_id),
            Occasion::DueTomorrow => match assignee {
                Some(address) => vec![address],
                None => self.routing.unit_addresses(tree, &case.unit_id),
            },
            Occasion::Late => {
                let to = case.escalated_to.as_deref().unwrap_or(&case.unit_id);
                let mut addresses = self.routing.unit_addresses(tree, to);
                addresses.extend(assignee);
                addresses.sort();
                addresses.dedup();
                addresses
            }
        }
    }

    pub fn mail(&self, case: &CaseFile, occasion: Occasion, to: Vec<String>) -> Mail {
        let (fi, sv, en) = match occasion {
            Occasion::Received => ("Uusi palaute", "Ny respons", "New feedback"),
            Occasion::Assigned => (
                "Palaute sinulle",
                "Respons till dig",
                "Feedback assigned to you",
            ),
            Occasion::DueTomorrow => (
                "Palautteen vastausaika päättyy",
                "Svarstiden går ut",
                "Reply due",
            ),
            Occasion::Late => ("Palaute myöhässä", "Respons försenad", "Feedback overdue"),
        };
        let link = self
            .console_url
            .as_deref()
            .map(|url| format!("{}/cases/{}", url.trim_end_matches('/'), case.case_id))
            .unwrap_or_else(|| format!("case {}", case.case_id));
        let (kind_fi, kind_sv, kind_en) = kind_names(case.opened.kind);
        let unit = &case.unit_id;
        let due = case.reply_due_on;
        let due_fi = due.format("%-d.%-m.%Y");
        let body = format!(
            "{fi}: yksikkö {unit}, laji {kind_fi}, vastattava viimeistään {due_fi}.\n\
             {sv}: enhet {unit}, typ {kind_sv}, ska besvaras senast {due_fi}.\n\
             {en}: unit {unit}, kind {kind_en}, reply due by {due}.\n\n\
             {link}\n\n\
             Palautteen sisältö ja yhteystiedot ovat vain Kaikussa. / Innehållet och \
             kontaktuppgifterna finns bara i Kaiku. / The feedback and contact details are only in \
             Kaiku.\n"
        );
        Mail {
            from: self.from.clone(),
            to,
            subject: format!("Kaiku: {fi} / {sv} / {en} ({unit})"),
            body,
        }
    }

    /// Sends in the background: a relay that is down delays no handler's command. Failures are
    /// logged and counted; the case itself is the record, the mail only a nudge.
    pub fn notify(&self, tree: &UnitTree, case: &CaseFile, occasion: Occasion) {
        let to = self.recipients(tree, case, occasion);
        let Some(smtp) = self.smtp.clone() else {
            tracing::debug!(case_id = %case.case_id, ?occasion, "no KAIKU_SMTP_URL: notice not sent");
            return;
        };
        if to.is_empty() {
            tracing::info!(case_id = %case.case_id, ?occasion, "no one to notify (KAIKU_HANDLING_ROUTING)");
            return;
        }
        let mail = self.mail(case, occasion, to);
        let metrics = self.metrics.clone();
        let case_id = case.case_id.clone();
        tokio::spawn(async move {
            match send(&smtp, &mail).await {
                Ok(()) => metrics.notice(true),
                Err(error) => {
                    metrics.notice(false);
                    tracing::warn!(%case_id, ?occasion, %error, "notice not sent");
                }
            }
        });
    }
}

/// A kind's name in Finnish, Swedish and English, for the three-language notices (DOMAIN.md:
/// kiitos, moite, kehitysehdotus, kysymys).
fn kind_names(kind: i32) -> (&'static str, &'static str, &'static str) {
    match kind_code(kind) {
        "praise" => ("kiitos", "beröm", "praise"),
        "complaint" => ("moite", "klagomål", "complaint"),
        "suggestion" => ("kehitysehdotus", "utvecklingsförslag", "suggestion"),
        "question" => ("kysymys", "fråga", "question"),
        _ => ("-", "-", "-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_domain::handling::{Promise, case_envelope, decide_open, evolve};
    use kaiku_proto::events::v1::{UnitCreated, UnitEvent, unit_event};
    use kaiku_proto::handling::v1::{
        CaseOrigin, ContactDetails, FeedbackKind, OpenCaseRequest, case_event::Kind,
    };

    fn tree() -> UnitTree {
        let mut tree = UnitTree::new();
        for (i, (id, parent)) in [
            ("county", ""),
            ("area-a", "county"),
            ("school-a1", "area-a"),
        ]
        .into_iter()
        .enumerate()
        {
            let event = UnitEvent {
                unit_id: id.into(),
                kind: Some(unit_event::Kind::Created(UnitCreated {
                    parent_unit_id: parent.into(),
                    ..UnitCreated::default()
                })),
                ..UnitEvent::default()
            };
            let _ = tree.apply(&event, i as u64 + 1);
        }
        tree
    }

    fn case() -> CaseFile {
        let request = OpenCaseRequest {
            unit_id: "school-a1".into(),
            kind: FeedbackKind::Complaint as i32,
            origin: CaseOrigin::ContactRequest as i32,
            channel: "qr".into(),
            language: "fi".into(),
            message: "Salainen viesti".into(),
            contact_requested: true,
            contact: Some(ContactDetails {
                email: "maija@example.fi".into(),
                ..ContactDetails::default()
            }),
            ..OpenCaseRequest::default()
        };
        let (id, opened, _) =
            decide_open(&request, Promise::WorkingDays(5), chrono::Utc::now()).expect("valid");
        evolve(
            None,
            &case_envelope(&id, "web-form", Kind::Opened(opened), chrono::Utc::now()),
            1,
        )
        .expect("opens")
    }

    fn notifier() -> Notifier {
        let routing: Routing = serde_json::from_str(
            r#"{"units": {"area-a": ["area@example.fi"], "county": ["county@example.fi"]},
                "people": {"anna": "anna@example.fi"}}"#,
        )
        .expect("routing");
        Notifier {
            routing,
            smtp: None,
            from: "kaiku@example.fi".into(),
            console_url: Some("https://kaiku.example.fi/".into()),
            metrics: crate::HandlingMetrics::default(),
        }
    }

    #[test]
    fn notices_go_to_the_nearest_unit_with_addresses_and_the_assignee() {
        let notifier = notifier();
        let tree = tree();
        let mut case = case();
        assert_eq!(
            notifier.recipients(&tree, &case, Occasion::Received),
            ["area@example.fi"]
        );
        assert!(
            notifier
                .recipients(&tree, &case, Occasion::Assigned)
                .is_empty()
        );
        case.assignee = "anna".into();
        assert_eq!(
            notifier.recipients(&tree, &case, Occasion::DueTomorrow),
            ["anna@example.fi"]
        );
        case.escalated_to = Some("county".into());
        assert_eq!(
            notifier.recipients(&tree, &case, Occasion::Late),
            ["anna@example.fi", "county@example.fi"]
        );
    }

    #[test]
    fn a_notice_links_the_case_but_carries_no_content() {
        let notifier = notifier();
        let case = case();
        let mail = notifier.mail(&case, Occasion::Late, vec!["area@example.fi".into()]);
        assert!(
            mail.body
                .contains(&format!("https://kaiku.example.fi/cases/{}", case.case_id))
        );
        // The kind and the day in each language's own words and form.
        let due = case.reply_due_on;
        for said in [
            format!(
                "laji moite, vastattava viimeistään {}",
                due.format("%-d.%-m.%Y")
            ),
            format!(
                "typ klagomål, ska besvaras senast {}",
                due.format("%-d.%-m.%Y")
            ),
            format!("kind complaint, reply due by {due}"),
        ] {
            assert!(mail.body.contains(&said), "{said:?} not in {}", mail.body);
        }
        assert!(!mail.body.contains("Salainen") && !mail.body.contains("maija"));
    }

    #[test]
    fn routing_files_with_unknown_fields_or_bad_addresses_are_refused() {
        assert!(Routing::parse(r#"{"unit": {}}"#).is_err());
        assert!(Routing::parse(r#"{"units": {"a": ["x@example.fi\r\nBcc: y@evil"]}}"#).is_err());
        assert!(Routing::parse(r#"{"people": {"anna": "anna"}}"#).is_err());
        assert!(Routing::parse(r#"{"units": {"a": ["x@example.fi"]}}"#).is_ok());
    }
}
