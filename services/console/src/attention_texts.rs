//! The texts of the attention list (open feedback that raised a concern), in Finnish, Swedish
//! and English: the page's own words and, per flag, what the manager is to do. The legal routes
//! are the county's duties, written out so a manager need not look them up.

pub struct AttentionTexts {
    pub nav: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub none: &'static str,
    pub unit: &'static str,
    pub answered_on: &'static str,
    pub respondent: &'static str,
    pub channel: &'static str,
    pub what_to_do: &'static str,
    /// Per flag (child protection, formal objection, self-harm): its name and guidance.
    pub flags: [(&'static str, &'static str, &'static str); 3],
    pub anonymous: &'static str,
    pub erase_title: &'static str,
    pub erase_intro: &'static str,
    pub reason: &'static str,
    /// The empty first choice of the reason list, and the refusal when none was chosen.
    pub choose_reason: &'static str,
    /// Per erasure reason code a person may give (kaiku_domain::erasure::reason_code): its name.
    pub reasons: [(&'static str, &'static str); 4],
    pub erase: &'static str,
    pub erased: &'static str,
}

pub fn attention_texts(tag: &str) -> &'static AttentionTexts {
    match tag {
        "sv" => &ATTENTION_SV,
        "en" => &ATTENTION_EN,
        _ => &ATTENTION_FI,
    }
}

impl AttentionTexts {
    /// The name and guidance of a flag, by its code (kaiku_domain::attention::flag_code).
    pub fn flag(&self, code: &str) -> Option<(&'static str, &'static str)> {
        self.flags
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, name, guidance)| (*name, *guidance))
    }

    /// The name of an erasure reason, by its code.
    pub fn reason_label(&self, code: &str) -> Option<&'static str> {
        self.reasons
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, label)| *label)
    }
}

static ATTENTION_FI: AttentionTexts = AttentionTexts {
    nav: "Huomiota vaativat",
    title: "Huomiota vaativat palautteet",
    intro: "Nämä avoimet palautteet viittaavat huoleen lapsen turvallisuudesta, muistutukseen tai itsetuhoisuuteen. Ne näkyvät vain yksikön esihenkilölle ja hyvinvointialueen asiakaskokemuksen henkilöstölle: eivät tulosten käsittelyssä, raporteissa eivätkä viennissä. Pienikin ryhmä näytetään, jotta huoli ei jää huomaamatta.",
    none: "Ei huomiota vaativia palautteita.",
    unit: "Yksikkö",
    answered_on: "Vastattu",
    respondent: "Vastaaja",
    channel: "Kanava",
    what_to_do: "Mitä tehdä",
    flags: [
        (
            "child_protection",
            "Huoli lapsen turvallisuudesta",
            "Sosiaali- ja terveydenhuollon ammattilaisilla on lastensuojelulain 25 §:n mukainen velvollisuus tehdä viipymättä lastensuojeluilmoitus hyvinvointialueen lastensuojeluun, kun lapsen tilanne voi edellyttää lastensuojelun tarpeen selvittämistä. Ilmoituksen voi tehdä nimettömänkin palautteen perusteella: kerro, mistä yksiköstä, kanavasta ja milloin palaute tuli. Välittömässä vaarassa soita 112.",
        ),
        (
            "formal_objection",
            "Muistutus",
            "Nimetön palaute ei ole muistutus (laki sosiaalihuollon asiakkaan asemasta 812/2000 23 §, potilaslaki 785/1992 10 §), eikä siihen voi vastata. Varmista, että yksikön muistutusohje ja -lomake ovat asiakkaiden saatavilla, ja että henkilöstö ohjaa kysyjät potilas- tai sosiaaliasiavastaavalle.",
        ),
        (
            "self_harm",
            "Itsetuhoisuus",
            "Jos palautteesta voi päätellä, kuka vastaaja on, toimi heti yksikön ohjeen mukaan; välittömässä vaarassa soita 112. Kerro henkilöstölle, että lasten ja nuorten puhelin 116 111 ja MIELI ry:n kriisipuhelin 09 2525 0111 ovat saatavilla, ja että ne näkyvät vastaajille.",
        ),
    ],
    anonymous: "Palaute on nimetön: vastaajaan ei voi ottaa yhteyttä palautteen kautta. Yhteydenottoa pyytäneet näkyvät palautteissa (Palautteet).",
    erase_title: "Pyydä poistamaan",
    erase_intro: "Jos teksti sisältää henkilötietoja tai sen ei pidä jäädä tallenteisiin, se poistetaan pysyvästi tapahtumavirrasta ja raporteista (vastauksen luvut jäävät). Poisto ja valitsemasi syy kirjataan lokiin nimelläsi.",
    reason: "Syy",
    choose_reason: "Valitse syy",
    reasons: [
        (
            "personal_data",
            "Henkilötietoja (esim. asiakasnumero, osoite, terveystieto)",
        ),
        ("staff_name", "Työntekijän nimi"),
        ("respondent_request", "Vastaaja pyysi poistamaan"),
        ("other", "Muu syy, jonka vuoksi tekstiä ei säilytetä"),
    ],
    erase: "Poista teksti pysyvästi",
    erased: "Teksti poistettiin.",
};

static ATTENTION_SV: AttentionTexts = AttentionTexts {
    nav: "Kräver uppmärksamhet",
    title: "Respons som kräver uppmärksamhet",
    intro: "Dessa öppna svar tyder på oro för ett barns säkerhet, en anmärkning eller självskadetankar. De visas bara för enhetens chef och välfärdsområdets kundupplevelsepersonal: inte i resultatgenomgången, rapporterna eller exporten. Även en liten grupp visas, så att oron inte förbises.",
    none: "Ingen respons som kräver uppmärksamhet.",
    unit: "Enhet",
    answered_on: "Besvarad",
    respondent: "Svarande",
    channel: "Kanal",
    what_to_do: "Vad ska göras",
    flags: [
        (
            "child_protection",
            "Oro för ett barns säkerhet",
            "Yrkespersoner inom social- och hälsovården är enligt 25 § i barnskyddslagen skyldiga att utan dröjsmål göra en barnskyddsanmälan till välfärdsområdets barnskydd när ett barns situation kan kräva en utredning av behovet av barnskydd. Anmälan kan göras även utifrån anonym respons: berätta från vilken enhet, kanal och när responsen kom. Vid omedelbar fara, ring 112.",
        ),
        (
            "formal_objection",
            "Anmärkning",
            "Anonym respons är ingen anmärkning (lagen om klientens ställning 812/2000 23 §, patientlagen 785/1992 10 §) och kan inte besvaras. Se till att enhetens anvisning och blankett för anmärkning finns tillgängliga och att personalen hänvisar till patient- eller socialombudet.",
        ),
        (
            "self_harm",
            "Självskadetankar",
            "Om det går att sluta sig till vem den svarande är, agera genast enligt enhetens anvisning; vid omedelbar fara, ring 112. Berätta för personalen att Barn- och ungdomstelefonen 116 111 och Kristelefonen på svenska 09 2525 0112 finns och syns för de svarande.",
        ),
    ],
    anonymous: "Responsen är anonym: den svarande kan inte kontaktas via den. De som bett om kontakt syns bland ärendena (Respons).",
    erase_title: "Begär radering",
    erase_intro: "Om texten innehåller personuppgifter eller inte ska sparas raderas den permanent ur händelseflödet och rapporterna (svarets siffror finns kvar). Raderingen och orsaken du väljer loggas i ditt namn.",
    reason: "Orsak",
    choose_reason: "Välj orsak",
    reasons: [
        (
            "personal_data",
            "Personuppgifter (t.ex. kundnummer, adress, hälsouppgift)",
        ),
        ("staff_name", "En anställds namn"),
        ("respondent_request", "Den svarande bad om radering"),
        ("other", "Annan orsak att inte spara texten"),
    ],
    erase: "Radera texten permanent",
    erased: "Texten raderades.",
};

static ATTENTION_EN: AttentionTexts = AttentionTexts {
    nav: "Needs attention",
    title: "Feedback that needs attention",
    intro: "These open answers read as a concern for a child's safety, a formal objection or thoughts of self-harm. Only the unit's manager and the county's customer-experience staff see them: not the results review, the reports or the export. Even a small group is shown, so that a concern is not missed.",
    none: "No feedback needs attention.",
    unit: "Unit",
    answered_on: "Answered",
    respondent: "Respondent",
    channel: "Channel",
    what_to_do: "What to do",
    flags: [
        (
            "child_protection",
            "Concern for a child's safety",
            "Social and health care professionals must, under section 25 of the Child Welfare Act, notify the wellbeing services county's child welfare services without delay when a child's situation may call for an assessment of the need for child welfare. A notification can be made on anonymous feedback too: say from which unit, channel and when it came. In immediate danger, call 112.",
        ),
        (
            "formal_objection",
            "Formal objection (muistutus)",
            "Anonymous feedback is not a formal objection (Act on the Status and Rights of Social Welfare Clients 812/2000 s. 23, Act on the Status and Rights of Patients 785/1992 s. 10) and cannot be answered. Make sure the unit's instructions and form for a formal objection are available and that staff refer people to the patient or social welfare ombudsman.",
        ),
        (
            "self_harm",
            "Thoughts of self-harm",
            "If the feedback lets you tell who wrote it, act at once by the unit's instructions; in immediate danger, call 112. Tell staff that the children's and young people's helpline 116 111 and the MIELI crisis helpline 09 2525 0111 exist and are shown to respondents.",
        ),
    ],
    anonymous: "The feedback is anonymous: its writer cannot be contacted through it. Those who asked to be contacted appear among the feedback cases.",
    erase_title: "Ask for erasure",
    erase_intro: "If the text holds personal data or must not be kept, it is erased for good from the event stream and the reports (the answer's figures stay). The erasure and the reason you choose are logged in your name.",
    reason: "Reason",
    choose_reason: "Choose a reason",
    reasons: [
        (
            "personal_data",
            "Personal data (e.g. a customer number, an address, health details)",
        ),
        ("staff_name", "A staff member's name"),
        ("respondent_request", "The respondent asked for erasure"),
        ("other", "Another reason not to keep the text"),
    ],
    erase: "Erase the text for good",
    erased: "The text was erased.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_a_person_may_give_has_a_name_in_every_language() {
        use kaiku_domain::erasure::{REQUESTABLE_REASONS, reason_code};
        for tag in ["fi", "sv", "en"] {
            let texts = attention_texts(tag);
            for reason in REQUESTABLE_REASONS {
                let label = texts.reason_label(reason_code(reason));
                assert!(label.is_some_and(|l| !l.is_empty()), "{tag} {reason:?}");
            }
            assert_eq!(texts.reason_label("retention"), None, "{tag}");
            assert!(!texts.choose_reason.is_empty());
        }
    }

    #[test]
    fn every_flag_has_a_name_and_guidance_in_every_language() {
        for tag in ["fi", "sv", "en"] {
            for code in ["child_protection", "formal_objection", "self_harm"] {
                let (name, guidance) = attention_texts(tag).flag(code).expect("a flag text");
                assert!(!name.is_empty() && guidance.len() > 100, "{tag} {code}");
                if code != "formal_objection" {
                    assert!(
                        guidance.contains("112"),
                        "{tag} {code}: no emergency number"
                    );
                }
            }
        }
    }
}
