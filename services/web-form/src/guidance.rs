//! Where to turn, by age: what the thank-you page (and the kiosk's thank-you screen) tells a
//! respondent whose answer may need more than anonymous statistics.
//!
//! Children and young people (an age band wholly under 18) are pointed to the school kuraattori
//! or nurse, the children's and young people's helpline 116 111 and 112, and never shown the
//! formal-objection text or the adults' child-protection text. Adults get the county's social
//! emergency service and the formal-objection (muistutus) route. Every number is a `tel:` link.

use kaiku_domain::form::is_young;
use kaiku_proto::intake::v1::AttentionFlag;
use kaiku_proto::survey::v1::{AgeBand, Language};
use maud::{Markup, html};

use crate::help::{HelpContacts, Line, Names, PhoneNumber};

/// Whom the guidance speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A child or young person: the age band ends before 18.
    Young,
    /// An adult, or a respondent whose age the context does not say.
    Adult,
}

impl Audience {
    pub fn of(band: Option<&AgeBand>) -> Audience {
        match band {
            Some(band) if is_young(band) => Audience::Young,
            _ => Audience::Adult,
        }
    }
}

/// When guidance is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment<'a> {
    /// After an answer whose open text raised these flags (the web form knows them at once).
    Flagged(&'a [AttentionFlag]),
    /// After every answer: a kiosk queues answers offline and learns their flags only once the
    /// respondent has gone, so it cannot wait for them.
    EveryAnswer,
}

/// One section of guidance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// A child's or young person's "do you need help?": school, 116 111, 112.
    YoungHelp,
    /// Thoughts of self-harm, written by a child or young person.
    YoungSelfHarm,
    /// Thoughts of self-harm, written by an adult: the crisis line, social emergency, 112.
    SelfHarm,
    /// An adult worried about a child: child welfare, social emergency, 112.
    ChildProtection,
    /// An adult's "do you need urgent help?": the county's social emergency service, 112.
    SocialEmergency,
    /// The formal-objection (muistutus) route and the ombudsman.
    FormalObjection,
}

impl Topic {
    /// Stable code for the page (`data-guidance`) and its element ids.
    pub fn code(self) -> &'static str {
        match self {
            Topic::YoungHelp => "young-help",
            Topic::YoungSelfHarm => "young-self-harm",
            Topic::SelfHarm => "self-harm",
            Topic::ChildProtection => "child-protection",
            Topic::SocialEmergency => "social-emergency",
            Topic::FormalObjection => "formal-objection",
        }
    }
}

/// The sections `audience` sees at `moment`, most urgent first; none for an unflagged answer.
pub fn topics(audience: Audience, moment: Moment<'_>) -> Vec<Topic> {
    let flagged =
        |flag: AttentionFlag| matches!(moment, Moment::Flagged(flags) if flags.contains(&flag));
    let any_flag = matches!(moment, Moment::Flagged(flags)
        if flags.iter().any(|f| *f != AttentionFlag::Unspecified));
    match (audience, moment) {
        (Audience::Young, Moment::EveryAnswer) => vec![Topic::YoungHelp],
        // One section: both name the same people and numbers.
        (Audience::Young, _) if flagged(AttentionFlag::SelfHarm) => vec![Topic::YoungSelfHarm],
        (Audience::Young, _) if any_flag => vec![Topic::YoungHelp],
        (Audience::Young, _) => Vec::new(),
        (Audience::Adult, Moment::EveryAnswer) => {
            vec![Topic::SocialEmergency, Topic::FormalObjection]
        }
        (Audience::Adult, _) => [
            (AttentionFlag::SelfHarm, Topic::SelfHarm),
            (
                AttentionFlag::ChildProtectionConcern,
                Topic::ChildProtection,
            ),
            (AttentionFlag::FormalObjection, Topic::FormalObjection),
        ]
        .into_iter()
        .filter(|(flag, _)| flagged(*flag))
        .map(|(_, topic)| topic)
        .collect(),
    }
}

/// The guidance texts of one language.
pub struct GuidanceTexts {
    pub language: Language,
    pub young_help: (&'static str, &'static str),
    pub young_self_harm: (&'static str, &'static str),
    pub self_harm: (&'static str, &'static str),
    pub child_protection: (&'static str, &'static str),
    pub social_emergency: (&'static str, &'static str),
    pub formal_objection: (&'static str, &'static str),
    /// The children's and young people's helpline (MLL, 116 111).
    pub helpline: &'static str,
    /// The crisis line, and its number (MIELI's Swedish line has its own).
    pub crisis_line: (&'static str, &'static str),
    /// Before 112.
    pub emergency: &'static str,
}

const FI: GuidanceTexts = GuidanceTexts {
    language: Language::Fi,
    young_help: (
        "Tarvitsetko apua?",
        "Tätä vastausta ei lueta heti, eikä kukaan tiedä, kuka sen kirjoitti. Jos jokin painaa mieltäsi tai joku kohtelee sinua huonosti, kerro siitä aikuiselle, johon luotat, tai soita.",
    ),
    young_self_harm: (
        "Onko sinun paha olla?",
        "Tätä vastausta ei lueta heti. Puhu jollekulle nyt: koulun kuraattorille, terveydenhoitajalle tai aikuiselle, johon luotat.",
    ),
    self_harm: (
        "Onko sinun paha olla?",
        "Nimetöntä palautetta ei lueta heti, eikä se tavoita ketään nopeasti. Puhu jollekulle nyt: soita kriisipuhelimeen tai hyvinvointialueesi sosiaalipäivystykseen.",
    ),
    child_protection: (
        "Oletko huolissasi lapsen turvallisuudesta?",
        "Nimetöntä palautetta ei lueta heti, eikä se tavoita ketään nopeasti. Ota yhteyttä lastensuojeluun tai hyvinvointialueesi sosiaalipäivystykseen.",
    ),
    social_emergency: (
        "Tarvitsetko kiireellistä apua?",
        "Nimetöntä palautetta ei lueta heti, eikä se tavoita ketään nopeasti. Kiireellisissä sosiaalihuollon asioissa auttaa hyvinvointialueesi sosiaalipäivystys ympäri vuorokauden.",
    ),
    formal_objection: (
        "Haluatko tehdä muistutuksen?",
        "Nimetön palaute ei ole muistutus, eikä siihen voida vastata. Jos olet tyytymätön saamaasi palveluun tai kohteluun, voit tehdä kirjallisen muistutuksen toimintayksikön vastuuhenkilölle. Potilas- ja sosiaaliasiavastaava neuvoo maksutta.",
    ),
    helpline: "Lasten ja nuorten puhelin (MLL), maksuton",
    crisis_line: ("MIELI ry:n kriisipuhelin", "09 2525 0111"),
    emergency: "Hätätilanteessa",
};

const SV: GuidanceTexts = GuidanceTexts {
    language: Language::Sv,
    young_help: (
        "Behöver du hjälp?",
        "Det här svaret läses inte genast, och ingen vet vem som skrev det. Om något tynger dig eller om någon behandlar dig illa, berätta det för en vuxen som du litar på, eller ring.",
    ),
    young_self_harm: (
        "Mår du dåligt?",
        "Det här svaret läses inte genast. Prata med någon nu: skolkuratorn, hälsovårdaren eller en vuxen som du litar på.",
    ),
    self_harm: (
        "Mår du dåligt?",
        "Anonym respons läses inte genast och når ingen snabbt. Prata med någon nu: ring kristelefonen eller socialjouren i ditt välfärdsområde.",
    ),
    child_protection: (
        "Är du orolig för ett barns säkerhet?",
        "Anonym respons läses inte genast och når ingen snabbt. Kontakta barnskyddet eller socialjouren i ditt välfärdsområde.",
    ),
    social_emergency: (
        "Behöver du brådskande hjälp?",
        "Anonym respons läses inte genast och når ingen snabbt. I brådskande ärenden inom socialvården hjälper socialjouren i ditt välfärdsområde dygnet runt.",
    ),
    formal_objection: (
        "Vill du göra en anmärkning?",
        "Anonym respons är ingen anmärkning och kan inte besvaras. Om du är missnöjd med servicen eller bemötandet kan du lämna en skriftlig anmärkning till den ansvariga personen vid verksamhetsenheten. Patient- och socialombudet ger kostnadsfri rådgivning.",
    ),
    helpline: "Barn- och ungdomstelefonen (MLL), avgiftsfri",
    crisis_line: ("Kristelefonen på svenska", "09 2525 0112"),
    emergency: "I nödsituationer",
};

const EN: GuidanceTexts = GuidanceTexts {
    language: Language::En,
    young_help: (
        "Do you need help?",
        "This answer is not read at once, and no one knows who wrote it. If something is worrying you or someone is treating you badly, tell an adult you trust, or call.",
    ),
    young_self_harm: (
        "Are you feeling bad?",
        "This answer is not read at once. Talk to someone now: the school social worker, the school nurse or an adult you trust.",
    ),
    self_harm: (
        "Are you feeling bad?",
        "Anonymous feedback is not read at once and reaches no one quickly. Talk to someone now: call a crisis helpline or your wellbeing services county's social emergency service.",
    ),
    child_protection: (
        "Are you worried about a child's safety?",
        "Anonymous feedback is not read at once and reaches no one quickly. Contact child welfare services or your wellbeing services county's social emergency service.",
    ),
    social_emergency: (
        "Do you need urgent help?",
        "Anonymous feedback is not read at once and reaches no one quickly. In urgent social welfare matters, your wellbeing services county's social emergency service helps around the clock.",
    ),
    formal_objection: (
        "Do you want to make a formal objection?",
        "Anonymous feedback is not a formal objection (muistutus) and cannot be replied to. If you are dissatisfied with your care or treatment, you can submit a written objection to the person in charge of the unit. The patient and social welfare ombudsman gives advice free of charge.",
    ),
    helpline: "Children's and young people's helpline (MLL), free of charge",
    crisis_line: ("MIELI crisis helpline", "09 2525 0111"),
    emergency: "In an emergency",
};

pub fn guidance_texts(language: Language) -> &'static GuidanceTexts {
    match language {
        Language::Sv => &SV,
        Language::En => &EN,
        Language::Fi | Language::Unspecified => &FI,
    }
}

/// The names the county's contacts go by when it has not named them.
pub fn default_school() -> Names {
    Names::new(
        "Koulusi kuraattori tai terveydenhoitaja",
        "Kuratorn eller hälsovårdaren i din skola",
        "Your school's social worker or nurse",
    )
}

pub fn default_social_emergency() -> Names {
    Names::new(
        "Hyvinvointialueesi sosiaalipäivystys",
        "Socialjouren i ditt välfärdsområde",
        "Your wellbeing services county's social emergency service",
    )
}

pub fn default_ombudsman() -> Names {
    Names::new(
        "Potilas- ja sosiaaliasiavastaava",
        "Patient- och socialombudet",
        "The patient and social welfare ombudsman",
    )
}

/// A number everyone in Finland dials the same way.
fn national(number: &str) -> Option<PhoneNumber> {
    number.parse().ok()
}

/// Heading level of the sections: 2 under the thank-you page's h1, 3 under the kiosk's h2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    H2,
    H3,
}

/// Where to turn, one section per topic, each with its people and numbers.
pub fn guidance_markup(
    language: Language,
    contacts: &HelpContacts,
    topics: &[Topic],
    level: Level,
) -> Markup {
    let t = guidance_texts(language);
    let school = default_school();
    let social = default_social_emergency();
    let ombudsman = default_ombudsman();
    let emergency = national("112");
    let helpline = national("116 111");
    let crisis = national(t.crisis_line.1);
    html! {
        @for topic in topics {
            @let (title, body) = match topic {
                Topic::YoungHelp => t.young_help,
                Topic::YoungSelfHarm => t.young_self_harm,
                Topic::SelfHarm => t.self_harm,
                Topic::ChildProtection => t.child_protection,
                Topic::SocialEmergency => t.social_emergency,
                Topic::FormalObjection => t.formal_objection,
            };
            @let lines: Vec<Line<'_>> = match topic {
                Topic::YoungHelp | Topic::YoungSelfHarm => vec![
                    contacts.school.line(language, &school),
                    Line { name: t.helpline, phone: helpline.as_ref() },
                    Line { name: t.emergency, phone: emergency.as_ref() },
                ],
                Topic::SelfHarm => vec![
                    Line { name: t.crisis_line.0, phone: crisis.as_ref() },
                    contacts.social_emergency.line(language, &social),
                    Line { name: t.emergency, phone: emergency.as_ref() },
                ],
                Topic::ChildProtection | Topic::SocialEmergency => vec![
                    contacts.social_emergency.line(language, &social),
                    Line { name: t.emergency, phone: emergency.as_ref() },
                ],
                Topic::FormalObjection => vec![contacts.ombudsman.line(language, &ombudsman)],
            };
            @let id = format!("guidance-{}", topic.code());
            section.guidance aria-labelledby=(id) data-guidance=(topic.code()) {
                @match level {
                    Level::H2 => h2 id=(id) { (title) },
                    Level::H3 => h3 id=(id) { (title) },
                }
                p { (body) }
                ul.help-lines {
                    @for line in &lines {
                        li {
                            @if let Some(phone) = line.phone {
                                (line.name) ": "
                                a href=(phone.href()) { (phone.shown()) }
                            } @else {
                                (line.name)
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
