//! The messages the gateway sends, in Finnish, Swedish and English. The question itself is the
//! survey's own NPS text in the recipient's language.

use kaiku_proto::survey::v1::Language;

pub struct SmsTexts {
    /// Before the question; `{unit}` is the unit's name.
    pub intro: &'static str,
    /// Before the question when the unit is not named.
    pub intro_plain: &'static str,
    pub answer_how: &'static str,
    pub ask_for_score: &'static str,
    pub ask_for_text: &'static str,
    pub thanks: &'static str,
}

const FI: SmsTexts = SmsTexts {
    intro: "Kiitos käynnistäsi ({unit}).",
    intro_plain: "Kiitos käynnistäsi.",
    answer_how: "Vastaa tähän viestiin numerolla 0-10 (0 = en lainkaan todennäköisesti, 10 = erittäin todennäköisesti). Vastaat nimettömänä.",
    ask_for_score: "Vastaa pelkällä numerolla 0-10.",
    ask_for_text: "Kiitos! Voit vielä kertoa palautteesi omin sanoin vastaamalla tähän viestiin. Älä kirjoita nimiä tai henkilötietoja.",
    thanks: "Kiitos palautteestasi!",
};

const SV: SmsTexts = SmsTexts {
    intro: "Tack för ditt besök ({unit}).",
    intro_plain: "Tack för ditt besök.",
    answer_how: "Svara på detta meddelande med ett tal 0-10 (0 = inte alls sannolikt, 10 = mycket sannolikt). Du svarar anonymt.",
    ask_for_score: "Svara med endast ett tal 0-10.",
    ask_for_text: "Tack! Du kan ännu berätta med egna ord genom att svara på detta meddelande. Skriv inga namn eller personuppgifter.",
    thanks: "Tack för din respons!",
};

const EN: SmsTexts = SmsTexts {
    intro: "Thank you for your visit ({unit}).",
    intro_plain: "Thank you for your visit.",
    answer_how: "Reply to this message with a number 0-10 (0 = not at all likely, 10 = extremely likely). You answer anonymously.",
    ask_for_score: "Please reply with just a number 0-10.",
    ask_for_text: "Thank you! You can still tell us more in your own words by replying to this message. Please do not write names or personal data.",
    thanks: "Thank you for your feedback!",
};

pub fn sms_texts(language: Language) -> &'static SmsTexts {
    match language {
        Language::Sv => &SV,
        Language::En => &EN,
        Language::Fi | Language::Unspecified => &FI,
    }
}

/// The invitation: who it is from, the survey's NPS question, and how to answer. `unit` is
/// named only when the county chose so.
pub fn invitation_text(language: Language, unit: Option<&str>, question: &str) -> String {
    let t = sms_texts(language);
    let intro = match unit {
        Some(name) => t.intro.replace("{unit}", name),
        None => t.intro_plain.to_owned(),
    };
    format!("{intro} {question} {}", t.answer_how)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invitation_carries_the_question_in_its_language_and_the_unit_only_when_asked() {
        let question = "Hur sannolikt är det att du skulle rekommendera tjänsten?";
        let named = invitation_text(Language::Sv, Some("Hälsocentralen"), question);
        assert!(named.starts_with("Tack för ditt besök (Hälsocentralen). Hur sannolikt"));
        assert!(named.ends_with("Du svarar anonymt."));
        let plain = invitation_text(Language::Sv, None, question);
        assert!(plain.starts_with("Tack för ditt besök. Hur sannolikt"));
    }
}
