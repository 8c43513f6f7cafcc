//! The texts of the feedback-handling pages (inbox, case, phone entry, handling report), in
//! Finnish, Swedish and English, kept apart from the results texts they do not share.

pub struct CaseTexts {
    pub nav: &'static str,
    pub inbox_title: &'static str,
    pub inbox_intro: &'static str,
    pub overview: &'static str,
    pub show: &'static str,
    pub views: [(&'static str, &'static str); 4],
    pub apply: &'static str,
    pub received: &'static str,
    pub unit: &'static str,
    pub kind: &'static str,
    pub origin: &'static str,
    pub state: &'static str,
    pub assignee: &'static str,
    pub due: &'static str,
    pub open: &'static str,
    pub overdue: &'static str,
    pub late: &'static str,
    pub escalated_to: &'static str,
    pub nobody: &'static str,
    pub no_cases: &'static str,
    pub open_case: &'static str,
    pub new_case: &'static str,
    pub new_case_intro: &'static str,
    pub received_on: &'static str,
    pub received_time: &'static str,
    pub language: &'static str,
    pub kinds: [&'static str; 4],
    pub states: [&'static str; 5],
    pub origins: [&'static str; 3],
    pub methods: [&'static str; 4],
    pub case_title: &'static str,
    pub message: &'static str,
    pub contact: &'static str,
    pub contact_requested: &'static str,
    pub no_contact: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub content_erased: &'static str,
    /// What to fix, by the field a refusal names (the service's field paths and the phone
    /// form's own), said in this language.
    pub field_problems: [(&'static str, &'static str); 15],
    /// What a refusal about the case's state means, by its code (kaiku_domain::handling::NotNow
    /// and CLOSED), and `STALE` for a change someone else saved first.
    pub state_problems: [(&'static str, &'static str); 6],
    /// The opening was saved but its message never arrived (its sending failed).
    pub content_missing: &'static str,
    pub promise: &'static str,
    /// "{n} <this>" for a promise in working days, and in calendar days.
    pub working_days: &'static str,
    pub calendar_days: &'static str,
    pub history: &'static str,
    pub whats: [(&'static str, &'static str); 10],
    pub assign_title: &'static str,
    pub assignee_hint: &'static str,
    pub move_to: &'static str,
    pub keep_unit: &'static str,
    pub save_assignment: &'static str,
    pub take: &'static str,
    pub start: &'static str,
    pub note_title: &'static str,
    pub notes_warning: &'static str,
    pub add_note: &'static str,
    pub reply_title: &'static str,
    pub reply_text: &'static str,
    pub reply_method: &'static str,
    pub record_reply: &'static str,
    pub action_title: &'static str,
    pub record_action: &'static str,
    pub close_title: &'static str,
    pub resolution: &'static str,
    pub close: &'static str,
    pub closed_note: &'static str,
    pub saved: &'static str,
    pub refused: &'static str,
    pub save_case: &'static str,
    pub report_title: &'static str,
    pub report_intro: &'static str,
    pub received_from: &'static str,
    pub received_to: &'static str,
    pub replied: &'static str,
    pub closed: &'static str,
    pub on_time: &'static str,
    pub on_time_share: &'static str,
    pub median_hours: &'static str,
    pub escalated: &'static str,
    pub all_kinds: &'static str,
    pub total: &'static str,
}

pub const CASES_FI: CaseTexts = CaseTexts {
    nav: "Palautteet",
    inbox_title: "Käsiteltävät palautteet",
    inbox_intro: "Palautteet, joihin on luvattu vastaus tai jotka odottavat käsittelyä yksiköissäsi. Vastausaika lasketaan arkipäivinä.",
    overview: "Yksiköiden tilanne",
    show: "Näytä",
    views: [
        ("open", "Avoimet"),
        ("overdue", "Myöhässä olevat"),
        ("mine", "Minulle osoitetut"),
        ("all", "Kaikki, myös suljetut"),
    ],
    apply: "Näytä",
    received: "Saapunut",
    unit: "Yksikkö",
    kind: "Laji",
    origin: "Lähde",
    state: "Tila",
    assignee: "Käsittelijä",
    due: "Vastattava viimeistään",
    open: "Avoimia",
    overdue: "Myöhässä",
    late: "myöhässä",
    escalated_to: "nostettu esihenkilölle:",
    nobody: "ei vielä",
    no_cases: "Ei palautteita tässä näkymässä.",
    open_case: "Avaa",
    new_case: "Kirjaa puhelinpalaute",
    new_case_intro: "Kirjaa puhelimessa, kirjeellä tai asioinnin yhteydessä saatu palaute. Yhteystiedot tallennetaan salattuina ja poistetaan säilytysajan jälkeen.",
    received_on: "Saapumispäivä",
    received_time: "Kellonaika",
    language: "Palautteen antajan kieli",
    kinds: ["Kiitos", "Moite", "Kehitysehdotus", "Kysymys"],
    states: [
        "Saapunut",
        "Osoitettu",
        "Käsittelyssä",
        "Vastattu",
        "Suljettu",
    ],
    origins: ["Yhteydenottopyyntö", "Vapaa palaute", "Puhelin"],
    methods: ["Puhelimitse", "Sähköpostilla", "Kirjeellä", "Tapaamisessa"],
    case_title: "Palaute",
    message: "Viesti",
    contact: "Yhteystiedot",
    contact_requested: "Toivoo yhteydenottoa",
    no_contact: "Ei toivo yhteydenottoa.",
    name: "Nimi",
    email: "Sähköposti",
    phone: "Puhelin",
    content_erased: "Viesti, yhteystiedot sekä muistiinpanojen, vastausten ja toimenpiteiden tekstit on poistettu säilytysajan päätyttyä.",
    state_problems: [
        ("CLOSED", "Tapaus on suljettu, eikä sitä voi enää muuttaa."),
        ("ALREADY_REPLIED", "Tapaukseen on jo vastattu."),
        (
            "REPLY_REQUIRED",
            "Palautteen antaja toivoi yhteydenottoa: kirjaa vastaus ennen kuin suljet tapauksen.",
        ),
        (
            "CONTENT_NOT_ARRIVED",
            "Palautteen viesti ja yhteystiedot eivät ole vielä tallentuneet: kirjaa vastaus, tai sulje tapaus, kun sen saapumisesta on kulunut 30 minuuttia.",
        ),
        (
            "CONTENT_NOT_SAVED",
            "Palautteen viesti ei ole vielä tallentunut, joten tekstiä ei voi vielä kirjata. Yritä hetken päästä uudelleen.",
        ),
        (
            "STALE",
            "Joku muu tallensi tapaukseen muutoksen juuri ennen sinua. Tarkista tapauksen tilanne ja tee muutos uudelleen.",
        ),
    ],
    field_problems: [
        ("unit_id", "Valitse yksikkö, jonka palautteita käsittelet."),
        ("kind", "Valitse palautteen laji."),
        ("language", "Valitse kieli."),
        ("message", "Kirjoita viesti (enintään 4000 merkkiä)."),
        ("received_on", "Anna saapumispäivä muodossa vvvv-kk-pp."),
        ("received_time", "Anna kellonaika muodossa tt:mm."),
        (
            "received_at",
            "Saapumisaika ei voi olla tulevaisuudessa eikä yli vuoden takana.",
        ),
        (
            "contact",
            "Anna sähköposti tai puhelinnumero, tai poista valinta \"Toivoo yhteydenottoa\".",
        ),
        ("contact.email", "Tarkista sähköpostiosoite."),
        ("contact.phone", "Tarkista puhelinnumero."),
        (
            "contact.name",
            "Nimi on liian pitkä (enintään 200 merkkiä).",
        ),
        ("text", "Kirjoita teksti (enintään 4000 merkkiä)."),
        (
            "resolution",
            "Ratkaisu on liian pitkä (enintään 4000 merkkiä).",
        ),
        ("method", "Valitse, miten vastasit."),
        (
            "assignee",
            "Anna käsittelijän käyttäjätunnus (enintään 200 merkkiä) tai valitse toinen yksikkö.",
        ),
    ],
    content_missing: "Palautteen viesti ja yhteystiedot eivät ole tallentuneet: niiden lähetys epäonnistui. Jos ne eivät saavu, tapauksen voi sulkea ilman vastausta, kun sen saapumisesta on kulunut 30 minuuttia.",
    promise: "Lupaus",
    working_days: "arkipäivää",
    calendar_days: "päivää",
    history: "Tapahtumat",
    whats: [
        ("opened", "Saapui"),
        ("assigned", "Osoitettiin"),
        ("started", "Käsittely alkoi"),
        ("note", "Muistiinpano"),
        ("replied", "Vastattiin"),
        ("action", "Toimenpide"),
        ("closed", "Suljettiin"),
        ("reminded", "Muistutus lähetettiin"),
        ("escalated", "Nostettiin esihenkilölle"),
        ("erased", "Viesti ja yhteystiedot poistettiin"),
    ],
    assign_title: "Käsittelijä ja yksikkö",
    assignee_hint: "Käsittelijän käyttäjätunnus. Jätä tyhjäksi, jos siirrät palautteen toiseen yksikköön sen esihenkilön osoitettavaksi.",
    move_to: "Yksikkö",
    keep_unit: "(ei muutosta)",
    save_assignment: "Tallenna käsittelijä",
    take: "Ota käsittelyyn",
    start: "Aloita käsittely",
    note_title: "Muistiinpano",
    notes_warning: "Muistiinpanot, vastaukset ja toimenpiteet tallennetaan salattuina ja poistetaan viestin kanssa säilytysajan päätyttyä. Kirjoita niihin vain käsittelyyn tarvittava.",
    add_note: "Lisää muistiinpano",
    reply_title: "Vastaus palautteen antajalle",
    reply_text: "Mitä vastasit",
    reply_method: "Vastaustapa",
    record_reply: "Kirjaa vastaus",
    action_title: "Toimenpide",
    record_action: "Kirjaa toimenpide",
    close_title: "Sulje palaute",
    resolution: "Ratkaisu",
    close: "Sulje palaute",
    closed_note: "Palaute on suljettu.",
    saved: "Tallennettu.",
    refused: "Ei tallennettu:",
    save_case: "Kirjaa palaute",
    report_title: "Palautteiden käsittely",
    report_intro: "Saapuneet palautteet ja niiden käsittely yksiköittäin ja lajeittain. Ajoissa = vastattu tai suljettu viimeistään luvattuna päivänä.",
    received_from: "Saapunut alkaen",
    received_to: "Saapunut asti",
    replied: "Vastattu",
    closed: "Suljettu",
    on_time: "Ajoissa",
    on_time_share: "Ajoissa-osuus",
    median_hours: "Käsittelyaika, mediaani (h)",
    escalated: "Nostettu",
    all_kinds: "Kaikki lajit",
    total: "Yhteensä",
};

pub const CASES_SV: CaseTexts = CaseTexts {
    nav: "Respons",
    inbox_title: "Respons att behandla",
    inbox_intro: "Respons som utlovats svar eller som väntar på behandling i dina enheter. Svarstiden räknas i vardagar.",
    overview: "Läget per enhet",
    show: "Visa",
    views: [
        ("open", "Öppna"),
        ("overdue", "Försenade"),
        ("mine", "Tilldelade mig"),
        ("all", "Alla, även stängda"),
    ],
    apply: "Visa",
    received: "Inkommen",
    unit: "Enhet",
    kind: "Typ",
    origin: "Källa",
    state: "Status",
    assignee: "Handläggare",
    due: "Ska besvaras senast",
    open: "Öppna",
    overdue: "Försenade",
    late: "försenad",
    escalated_to: "lyft till chef:",
    nobody: "ingen ännu",
    no_cases: "Ingen respons i denna vy.",
    open_case: "Öppna",
    new_case: "Registrera respons per telefon",
    new_case_intro: "Registrera respons som kommit per telefon, brev eller vid besök. Kontaktuppgifterna sparas krypterade och raderas efter lagringstiden.",
    received_on: "Inkommen dag",
    received_time: "Klockslag",
    language: "Språk för den som gav responsen",
    kinds: ["Beröm", "Klagomål", "Förbättringsförslag", "Fråga"],
    states: [
        "Inkommen",
        "Tilldelad",
        "Under behandling",
        "Besvarad",
        "Stängd",
    ],
    origins: ["Kontaktbegäran", "Fri respons", "Telefon"],
    methods: ["Per telefon", "Per e-post", "Per brev", "Vid möte"],
    case_title: "Respons",
    message: "Meddelande",
    contact: "Kontaktuppgifter",
    contact_requested: "Vill bli kontaktad",
    no_contact: "Vill inte bli kontaktad.",
    name: "Namn",
    email: "E-post",
    phone: "Telefon",
    content_erased: "Meddelandet, kontaktuppgifterna och texterna i anteckningar, svar och åtgärder har raderats efter lagringstiden.",
    state_problems: [
        ("CLOSED", "Ärendet är stängt och kan inte längre ändras."),
        ("ALREADY_REPLIED", "Ärendet har redan besvarats."),
        (
            "REPLY_REQUIRED",
            "Den som gav responsen vill bli kontaktad: registrera svaret innan du stänger ärendet.",
        ),
        (
            "CONTENT_NOT_ARRIVED",
            "Responsens meddelande och kontaktuppgifter har inte sparats ännu: registrera svaret, eller stäng ärendet när 30 minuter har gått sedan det kom in.",
        ),
        (
            "CONTENT_NOT_SAVED",
            "Responsens meddelande har inte sparats ännu, så text kan inte registreras ännu. Försök igen om en stund.",
        ),
        (
            "STALE",
            "Någon annan sparade en ändring i ärendet strax före dig. Kontrollera läget och gör ändringen på nytt.",
        ),
    ],
    field_problems: [
        ("unit_id", "Välj en enhet vars respons du handlägger."),
        ("kind", "Välj typ av respons."),
        ("language", "Välj språk."),
        ("message", "Skriv meddelandet (högst 4000 tecken)."),
        ("received_on", "Ange dagen i formen åååå-mm-dd."),
        ("received_time", "Ange klockslaget i formen tt:mm."),
        (
            "received_at",
            "Tidpunkten kan inte ligga i framtiden eller mer än ett år tillbaka.",
        ),
        (
            "contact",
            "Ange e-post eller telefonnummer, eller avmarkera \"Vill bli kontaktad\".",
        ),
        ("contact.email", "Kontrollera e-postadressen."),
        ("contact.phone", "Kontrollera telefonnumret."),
        ("contact.name", "Namnet är för långt (högst 200 tecken)."),
        ("text", "Skriv texten (högst 4000 tecken)."),
        ("resolution", "Avgörandet är för långt (högst 4000 tecken)."),
        ("method", "Välj hur du svarade."),
        (
            "assignee",
            "Ange handläggarens användarnamn (högst 200 tecken) eller välj en annan enhet.",
        ),
    ],
    content_missing: "Responsens meddelande och kontaktuppgifter har inte sparats: sändningen misslyckades. Om de inte kommer fram kan ärendet stängas utan svar när 30 minuter har gått sedan det kom in.",
    promise: "Löfte",
    working_days: "arbetsdagar",
    calendar_days: "dagar",
    history: "Händelser",
    whats: [
        ("opened", "Inkom"),
        ("assigned", "Tilldelades"),
        ("started", "Behandlingen började"),
        ("note", "Anteckning"),
        ("replied", "Besvarades"),
        ("action", "Åtgärd"),
        ("closed", "Stängdes"),
        ("reminded", "Påminnelse skickades"),
        ("escalated", "Lyftes till chef"),
        ("erased", "Meddelandet och kontaktuppgifterna raderades"),
    ],
    assign_title: "Handläggare och enhet",
    assignee_hint: "Handläggarens användarnamn. Lämna tomt om du flyttar responsen till en annan enhet så att dess chef tilldelar den.",
    move_to: "Enhet",
    keep_unit: "(ingen ändring)",
    save_assignment: "Spara handläggare",
    take: "Ta till behandling",
    start: "Börja behandla",
    note_title: "Anteckning",
    notes_warning: "Anteckningar, svar och åtgärder sparas krypterade och raderas med meddelandet efter lagringstiden. Skriv bara det som behövs för handläggningen.",
    add_note: "Lägg till anteckning",
    reply_title: "Svar till den som gav responsen",
    reply_text: "Vad du svarade",
    reply_method: "Svarssätt",
    record_reply: "Registrera svar",
    action_title: "Åtgärd",
    record_action: "Registrera åtgärd",
    close_title: "Stäng responsen",
    resolution: "Lösning",
    close: "Stäng responsen",
    closed_note: "Responsen är stängd.",
    saved: "Sparat.",
    refused: "Inte sparat:",
    save_case: "Registrera respons",
    report_title: "Behandling av respons",
    report_intro: "Inkommen respons och dess behandling per enhet och typ. I tid = besvarad eller stängd senast den utlovade dagen.",
    received_from: "Inkommen från",
    received_to: "Inkommen till",
    replied: "Besvarade",
    closed: "Stängda",
    on_time: "I tid",
    on_time_share: "Andel i tid",
    median_hours: "Behandlingstid, median (h)",
    escalated: "Lyfta",
    all_kinds: "Alla typer",
    total: "Totalt",
};

pub const CASES_EN: CaseTexts = CaseTexts {
    nav: "Feedback cases",
    inbox_title: "Feedback to handle",
    inbox_intro: "Feedback that was promised a reply or waits to be handled in your units. Reply times count working days.",
    overview: "By unit",
    show: "Show",
    views: [
        ("open", "Open"),
        ("overdue", "Overdue"),
        ("mine", "Assigned to me"),
        ("all", "All, closed too"),
    ],
    apply: "Show",
    received: "Received",
    unit: "Unit",
    kind: "Kind",
    origin: "Source",
    state: "State",
    assignee: "Handler",
    due: "Reply due by",
    open: "Open",
    overdue: "Overdue",
    late: "overdue",
    escalated_to: "raised to the manager of",
    nobody: "nobody yet",
    no_cases: "No feedback in this view.",
    open_case: "Open",
    new_case: "Record a phone call",
    new_case_intro: "Record feedback received by phone, by letter or in person. Contact details are stored encrypted and erased after the retention period.",
    received_on: "Received on",
    received_time: "Time",
    language: "The person's language",
    kinds: ["Praise", "Complaint", "Suggestion", "Question"],
    states: ["Received", "Assigned", "In progress", "Replied", "Closed"],
    origins: ["Contact request", "Free-form feedback", "Phone"],
    methods: ["By phone", "By e-mail", "By letter", "In person"],
    case_title: "Feedback",
    message: "Message",
    contact: "Contact details",
    contact_requested: "Asks to be contacted",
    no_contact: "Does not ask to be contacted.",
    name: "Name",
    email: "E-mail",
    phone: "Phone",
    content_erased: "The message, the contact details and the texts of notes, replies and actions were erased after the retention period.",
    state_problems: [
        ("CLOSED", "The case is closed and can no longer be changed."),
        ("ALREADY_REPLIED", "The case has already been replied to."),
        (
            "REPLY_REQUIRED",
            "The respondent asked to be contacted: record the reply before closing the case.",
        ),
        (
            "CONTENT_NOT_ARRIVED",
            "The feedback's message and contact details have not been saved yet: record the reply, or close the case once 30 minutes have passed since it was received.",
        ),
        (
            "CONTENT_NOT_SAVED",
            "The feedback's message is not saved yet, so no text can be recorded yet. Try again in a moment.",
        ),
        (
            "STALE",
            "Someone else saved a change to the case just before you. Check where the case stands and make your change again.",
        ),
    ],
    field_problems: [
        ("unit_id", "Choose a unit whose feedback you handle."),
        ("kind", "Choose the kind of feedback."),
        ("language", "Choose the language."),
        ("message", "Write the message (at most 4000 characters)."),
        ("received_on", "Give the day as yyyy-mm-dd."),
        ("received_time", "Give the time as hh:mm."),
        (
            "received_at",
            "The time cannot be in the future or more than a year ago.",
        ),
        (
            "contact",
            "Give an e-mail address or a phone number, or untick \"Asks to be contacted\".",
        ),
        ("contact.email", "Check the e-mail address."),
        ("contact.phone", "Check the phone number."),
        (
            "contact.name",
            "The name is too long (at most 200 characters).",
        ),
        ("text", "Write the text (at most 4000 characters)."),
        (
            "resolution",
            "The resolution is too long (at most 4000 characters).",
        ),
        ("method", "Choose how you replied."),
        (
            "assignee",
            "Give the handler's user name (at most 200 characters) or choose another unit.",
        ),
    ],
    content_missing: "The feedback's message and contact details were not saved: their sending failed. If they do not arrive, the case can be closed without a reply once 30 minutes have passed since it was received.",
    promise: "Promise",
    working_days: "working days",
    calendar_days: "days",
    history: "History",
    whats: [
        ("opened", "Received"),
        ("assigned", "Assigned"),
        ("started", "Handling started"),
        ("note", "Note"),
        ("replied", "Replied"),
        ("action", "Action"),
        ("closed", "Closed"),
        ("reminded", "Reminder sent"),
        ("escalated", "Raised to the manager"),
        ("erased", "Message and contact details erased"),
    ],
    assign_title: "Handler and unit",
    assignee_hint: "The handler's user name. Leave it empty when you move the feedback to another unit for its manager to assign.",
    move_to: "Unit",
    keep_unit: "(no change)",
    save_assignment: "Save handler",
    take: "Take it",
    start: "Start handling",
    note_title: "Note",
    notes_warning: "Notes, replies and actions are stored encrypted and erased with the message after the retention period. Write only what handling needs.",
    add_note: "Add note",
    reply_title: "Reply to the person who gave the feedback",
    reply_text: "What you replied",
    reply_method: "How",
    record_reply: "Record reply",
    action_title: "Action",
    record_action: "Record action",
    close_title: "Close the feedback",
    resolution: "Resolution",
    close: "Close the feedback",
    closed_note: "This feedback is closed.",
    saved: "Saved.",
    refused: "Not saved:",
    save_case: "Record the feedback",
    report_title: "Feedback handling",
    report_intro: "Feedback received and how it was handled, per unit and kind. On time = replied or closed by the promised day.",
    received_from: "Received from",
    received_to: "Received until",
    replied: "Replied",
    closed: "Closed",
    on_time: "On time",
    on_time_share: "Share on time",
    median_hours: "Handling time, median (h)",
    escalated: "Escalated",
    all_kinds: "All kinds",
    total: "Total",
};

pub const KIND_CODES: [&str; 4] = ["praise", "complaint", "suggestion", "question"];
pub const METHOD_CODES: [&str; 4] = ["phone", "email", "letter", "in_person"];

/// The text paired with `key`.
fn text_for(pairs: &[(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, text)| *text)
}

pub fn case_texts(tag: &str) -> &'static CaseTexts {
    match tag {
        "sv" => &CASES_SV,
        "en" => &CASES_EN,
        _ => &CASES_FI,
    }
}

impl CaseTexts {
    /// What a refusal about the case's state means, by its code.
    pub fn state_problem(&self, code: &str) -> Option<&'static str> {
        text_for(&self.state_problems, code)
    }

    /// What to fix about `field`, if it is one a case form has.
    pub fn field_problem(&self, field: &str) -> Option<&'static str> {
        text_for(&self.field_problems, field)
    }

    /// The promise a case carries ("5 working days"), in this language.
    pub fn promise_text(&self, promise: &str) -> String {
        use kaiku_domain::handling::Promise;
        match Promise::from_display(promise) {
            Some(Promise::WorkingDays(days)) => format!("{days} {}", self.working_days),
            Some(Promise::Days(days)) => format!("{days} {}", self.calendar_days),
            None => promise.to_owned(),
        }
    }

    /// The name of a kind by its enum value or code.
    pub fn kind_name(&self, kind: i32) -> &'static str {
        usize::try_from(kind - 1)
            .ok()
            .and_then(|i| self.kinds.get(i))
            .copied()
            .unwrap_or("-")
    }

    pub fn kind_name_of_code(&self, code: &str) -> &'static str {
        KIND_CODES
            .iter()
            .position(|c| *c == code)
            .and_then(|i| self.kinds.get(i))
            .copied()
            .unwrap_or(self.all_kinds)
    }

    pub fn state_name(&self, state: i32) -> &'static str {
        usize::try_from(state - 1)
            .ok()
            .and_then(|i| self.states.get(i))
            .copied()
            .unwrap_or("-")
    }

    pub fn origin_name(&self, origin: i32) -> &'static str {
        usize::try_from(origin - 1)
            .ok()
            .and_then(|i| self.origins.get(i))
            .copied()
            .unwrap_or("-")
    }

    pub fn what_name(&self, what: &str) -> &'static str {
        self.whats
            .iter()
            .find(|(code, _)| *code == what)
            .map_or("-", |(_, name)| name)
    }
}
