//! The SMS conversation after an invitation: a number 0-10 is the NPS answer, then one optional
//! text. Pure: the caller stores the state and sends what the step says.

/// Where a conversation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversation {
    /// Invitation sent; no valid score yet.
    AwaitingScore,
    /// Score given; an optional text may follow.
    AwaitingText { score: u32 },
}

/// What to do with a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Not a score: ask again for a number.
    AskForScore,
    /// Keep the score, invite a text.
    ScoreGiven { score: u32 },
    /// The answer is complete: submit the score with this text.
    Complete { score: u32, text: String },
}

pub fn on_reply(state: &Conversation, reply: &str) -> Step {
    match state {
        Conversation::AwaitingScore => match parse_score(reply) {
            Some(score) => Step::ScoreGiven { score },
            None => Step::AskForScore,
        },
        Conversation::AwaitingText { score } => Step::Complete {
            score: *score,
            text: reply.trim().to_owned(),
        },
    }
}

/// "9", " 10 ", "7." or "8!" are scores; "9/10", "nine", "11" and "5 ja 6" are not.
pub fn parse_score(reply: &str) -> Option<u32> {
    let trimmed = reply.trim().trim_end_matches(['.', '!', ',']);
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) || trimmed.len() > 2 {
        return None;
    }
    trimmed.parse::<u32>().ok().filter(|n| *n <= 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_non_scores() {
        for (reply, expected) in [
            ("9", Some(9)),
            (" 10 ", Some(10)),
            ("0", Some(0)),
            ("7.", Some(7)),
            ("8!", Some(8)),
            ("11", None),
            ("9/10", None),
            ("nine", None),
            ("5 ja 6", None),
            ("", None),
            ("-1", None),
            ("100", None),
            ("٣", None),
        ] {
            assert_eq!(parse_score(reply), expected, "{reply:?}");
        }
    }

    #[test]
    fn a_conversation_asks_until_it_gets_a_score_then_takes_one_text() {
        assert_eq!(
            on_reply(&Conversation::AwaitingScore, "kiva"),
            Step::AskForScore
        );
        assert_eq!(
            on_reply(&Conversation::AwaitingScore, "9"),
            Step::ScoreGiven { score: 9 }
        );
        assert_eq!(
            on_reply(&Conversation::AwaitingText { score: 9 }, "  Hyvä palvelu "),
            Step::Complete {
                score: 9,
                text: "Hyvä palvelu".into()
            }
        );
        // After the score, even a number is the respondent's text.
        assert_eq!(
            on_reply(&Conversation::AwaitingText { score: 9 }, "10"),
            Step::Complete {
                score: 9,
                text: "10".into()
            }
        );
    }
}
