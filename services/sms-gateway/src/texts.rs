//! The messages the gateway sends, in Finnish, Swedish and English. The question itself is the
//! survey's own NPS text in the recipient's language.

use kaiku_proto::survey::v1::Language;

pub struct SmsTexts {
    /// Before the question; `{unit}` is the unit's name.
    pub intro: &'static str,
    pub answer_how: &'static str,
    pub ask_for_score: &'static str,
    pub ask_for_text: &'static str,
    pub thanks: &'static str,
}

const FI: SmsTexts = SmsTexts {
    intro: "Kiitos käynnistäsi ({unit}).",
    answer_how: "Vastaa tähän viestiin numerolla 0-10 (0 = en lainkaan todennäköisesti, 10 = erittäin todennäköisesti). Vastaat nimettömänä.",
    ask_for_score: "Vastaa pelkällä numerolla 0-10.",
    ask_for_text: "Kiitos! Voit vielä kertoa palautteesi omin sanoin vastaamalla tähän viestiin. Älä kirjoita nimiä tai henkilötietoja.",
    thanks: "Kiitos palautteestasi!",
};

const SV: SmsTexts = SmsTexts {
    intro: "Tack för ditt besök ({unit}).",
    answer_how: "Svara på detta meddelande med ett tal 0-10 (0 = inte alls sannolikt, 10 = mycket sannolikt). Du svarar anonymt.",
    ask_for_score: "Svara med endast ett tal 0-10.",
    ask_for_text: "Tack! Du kan ännu berätta med egna ord genom att svara på detta meddelande. Skriv inga namn eller personuppgifter.",
    thanks: "Tack för din respons!",
};

const EN: SmsTexts = SmsTexts {
    intro: "Thank you for your visit ({unit}).",
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

/// The invitation: who it is from, the survey's NPS question, and how to answer.
pub fn invitation_text(language: Language, unit_name: &str, question: &str) -> String {
    let t = sms_texts(language);
    format!(
        "{} {question} {}",
        t.intro.replace("{unit}", unit_name),
        t.answer_how
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invitation_carries_the_unit_and_the_question_in_its_language() {
        let text = invitation_text(
            Language::Sv,
            "Hälsocentralen",
            "Hur sannolikt är det att du skulle rekommendera tjänsten?",
        );
        assert!(text.starts_with("Tack för ditt besök (Hälsocentralen). Hur sannolikt"));
        assert!(text.ends_with("Du svarar anonymt."));
    }
}
