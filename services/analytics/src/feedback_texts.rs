//! Open feedback for reading: newest first, keyset-paged by stream sequence, with search that
//! finds inflected forms, and sentiment and theme filters. Texts are already redacted by
//! intake and tagged by the projection.

use chrono::NaiveDate;
use kaiku_domain::Violations;
use kaiku_domain::time::local_date;
use kaiku_proto::analytics::v1::{FeedbackText, Sentiment};
use kaiku_proto::survey::v1::{Channel, Language, RespondentRole};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::AnalyticsError;
use crate::cells::{FilterColumns, push_filter_on};
use crate::disclosure::{Released, ShownOrigin};
use crate::filter::Filter;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// A search turned into a tsquery of word prefixes. Finnish and Swedish inflect at the end of
/// the word and the stored vectors hold snowball stems, which differ between forms
/// ("odotus" -> odotus, "odotuksen" -> odotuks); a prefix of the searched word a little shorter
/// than it matches them all (odot:* finds odotu, odotuks, odotus). Only letters and digits are
/// kept, so no input can break the query syntax. None when nothing searchable remains.
pub fn search_query(search: &str) -> Option<String> {
    let terms: Vec<String> = search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let word = word.to_lowercase();
            let chars: Vec<char> = word.chars().collect();
            let keep = match chars.len() {
                0..=3 => chars.len(),
                4..=5 => chars.len() - 1,
                n => n - 2,
            };
            format!("{}:*", chars[..keep].iter().collect::<String>())
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

pub struct Page {
    pub texts: Vec<FeedbackText>,
    pub next_page_token: String,
}

pub struct TextQuery<'a> {
    pub survey_id: Uuid,
    pub filter: &'a Filter,
    pub search: Option<String>,
    pub sentiments: Vec<&'static str>,
    pub themes: &'a [String],
    pub question_keys: &'a [String],
    pub page_size: u32,
    /// Where the previous page ended.
    pub after: Option<Position>,
    /// For a reader (ADR 0018): only texts of the partition's blocks inside the filter, each
    /// shown with what its block shares.
    pub reader: Option<ReaderTexts<'a>>,
    /// Which texts: those that raised an attention flag (for the people who must act on them),
    /// or only those that raised none (everyone else). A text not yet read for flags is in
    /// neither.
    pub flagged: bool,
}

pub fn parse_sentiments(raw: &[i32]) -> Result<Vec<&'static str>, Violations> {
    let mut v = Violations::new();
    let mut codes = Vec::new();
    for (i, value) in raw.iter().enumerate() {
        match Sentiment::try_from(*value) {
            Ok(Sentiment::Positive) => codes.push("positive"),
            Ok(Sentiment::Neutral) => codes.push("neutral"),
            Ok(Sentiment::Negative) => codes.push("negative"),
            Ok(Sentiment::Unspecified) | Err(_) => v.add(
                format!("sentiments[{i}]"),
                format!("unknown sentiment {value}"),
            ),
        }
    }
    v.into_result(codes)
}

/// Where a page starts: after a (stream sequence, question key), for callers who may see
/// sequences, or after a number of texts, for readers (a sequence would date a response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    After(i64, String),
    Offset(u64),
}

pub struct ReaderTexts<'a> {
    pub released: &'a Released,
    /// The atoms inside the filter, by id.
    pub published: &'a [i64],
}

pub fn parse_page(page_size: u32, token: &str) -> Result<(u32, Option<Position>), Violations> {
    let mut v = Violations::new();
    if page_size > MAX_PAGE_SIZE {
        v.add(
            "page_size",
            format!("must be at most {MAX_PAGE_SIZE}, got {page_size}"),
        );
    }
    let after = if token.is_empty() {
        None
    } else {
        let parsed = match token.strip_prefix("o:") {
            Some(offset) => offset.parse::<u64>().ok().map(Position::Offset),
            None => token.split_once('.').and_then(|(sequence, key)| {
                let sequence = sequence.parse::<i64>().ok()?;
                (sequence > 0 && !key.is_empty()).then(|| Position::After(sequence, key.to_owned()))
            }),
        };
        match parsed {
            Some(position) => Some(position),
            _ => {
                v.add("page_token", "is not a token from a previous page");
                None
            }
        }
    };
    let size = if page_size == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        page_size
    };
    v.into_result((size, after))
}

pub async fn list(pool: &PgPool, query: TextQuery<'_>) -> Result<Page, AnalyticsError> {
    let mut q = QueryBuilder::<Postgres>::new(
        "select f.question_key, f.body, f.language, f.sentiment, f.themes, f.attention,
                r.unit_id, r.answered_on, r.channel, r.respondent_role, r.professional_group,
                r.age_band, r.period_id, r.stream_sequence, ",
    );
    match &query.reader {
        // A reader's texts come from the released atoms inside the filter only (ADR 0020).
        Some(reader) => {
            q.push(
                "x.atom_id from feedback_text f join response r using (submission_id)
                 join reader_release.released x
                   on x.submission_id = r.submission_id and x.atom_id = any(",
            );
            q.push_bind(reader.published.to_vec());
            q.push(")");
        }
        None => {
            q.push("null::bigint as atom_id from feedback_text f join response r using (submission_id)");
        }
    }
    q.push(" where r.survey_id = ");
    q.push_bind(query.survey_id);
    q.push(if query.flagged {
        " and f.attention <> '{}'"
    } else {
        " and f.attention = '{}'"
    });
    push_filter_on(
        &mut q,
        query.filter,
        FilterColumns {
            prefix: "r.",
            day: Some("answered_on"),
        },
    );
    if let Some(search) = &query.search {
        q.push(" and f.search @@ to_tsquery('simple', ");
        q.push_bind(search.clone());
        q.push(")");
    }
    if !query.sentiments.is_empty() {
        q.push(" and f.sentiment = any(");
        q.push_bind(
            query
                .sentiments
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<_>>(),
        );
        q.push(")");
    }
    if !query.themes.is_empty() {
        q.push(" and f.themes && ");
        q.push_bind(query.themes.to_vec());
        q.push("::text[]");
    }
    if !query.question_keys.is_empty() {
        q.push(" and f.question_key = any(");
        q.push_bind(query.question_keys.to_vec());
        q.push(")");
    }
    // Newest response first, its texts by question key; a response with two open answers may
    // straddle pages, so the position is both.
    let offset = match &query.after {
        Some(Position::Offset(offset)) => *offset,
        _ => 0,
    };
    if let Some(Position::After(sequence, key)) = query.after {
        q.push(" and (r.stream_sequence < ");
        q.push_bind(sequence);
        q.push(" or (r.stream_sequence = ");
        q.push_bind(sequence);
        q.push(" and f.question_key > ");
        q.push_bind(key);
        q.push("))");
    }
    q.push(if query.reader.is_some() {
        // Not in the order they came: the order of a reader's texts would otherwise tell when
        // each was written, across blocks and within one (a hash of the response is stable for
        // paging and says nothing).
        " order by md5(r.submission_id::text || f.question_key), f.question_key limit "
    } else {
        " order by r.stream_sequence desc, f.question_key limit "
    });
    q.push_bind(i64::from(query.page_size) + 1);
    if offset > 0 {
        q.push(" offset ");
        q.push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
    }
    let rows = q.build().fetch_all(pool).await?;
    let more = rows.len() > query.page_size as usize;
    let mut texts = Vec::with_capacity(rows.len());
    let mut last_sequence = 0i64;
    let mut last_key = String::new();
    for row in rows.into_iter().take(query.page_size as usize) {
        let answered_on: NaiveDate = row.try_get("answered_on")?;
        last_sequence = row.try_get("stream_sequence")?;
        last_key = row.try_get("question_key")?;
        let mut text = FeedbackText {
            question_key: row.try_get("question_key")?,
            text: row.try_get("body")?,
            language: language_of(&row.try_get::<String, _>("language")?) as i32,
            sentiment: sentiment_of(&row.try_get::<String, _>("sentiment")?) as i32,
            themes: row.try_get("themes")?,
            unit_id: row.try_get("unit_id")?,
            answered_on: Some(local_date(answered_on)),
            channel: channel_of(&row.try_get::<String, _>("channel")?) as i32,
            respondent_role: role_of(&row.try_get::<String, _>("respondent_role")?) as i32,
            professional_group: row.try_get("professional_group")?,
            period_id: row.try_get("period_id")?,
            sequence: u64::try_from(last_sequence).unwrap_or_default(),
            attention_flags: row
                .try_get::<Option<Vec<String>>, _>("attention")?
                .unwrap_or_default()
                .iter()
                .filter_map(|code| kaiku_domain::attention::flag_from_code(code))
                .map(|flag| flag as i32)
                .collect(),
            // Who wrote a concern matters to whoever acts on it (a child or a guardian); the
            // shared listing does not need it.
            age_band: if query.flagged {
                row.try_get("age_band")?
            } else {
                String::new()
            },
            month_only: false,
        };
        if let Some(reader) = &query.reader {
            // The join above keeps only released responses; any other is not shown.
            let Some(atom) = row
                .try_get::<Option<i64>, _>("atom_id")?
                .and_then(|id| reader.released.atom_index(id))
            else {
                continue;
            };
            show_as_block(&mut text, &reader.released.shown_origin(atom));
        }
        texts.push(text);
    }
    let next_page_token = match (&query.reader, more) {
        (_, false) => String::new(),
        (Some(_), true) => format!("o:{}", offset + u64::from(query.page_size)),
        (None, true) => format!("{last_sequence}.{last_key}"),
    };
    Ok(Page {
        next_page_token,
        texts,
    })
}

/// A reader sees a text's origin as its block: the attributes every response of the block
/// shares, the block's unit, the month (never the day) and no stream sequence.
fn show_as_block(text: &mut FeedbackText, origin: &ShownOrigin) {
    text.unit_id = origin.unit_id.clone();
    text.answered_on = origin.month.map(local_date);
    text.month_only = true;
    text.period_id = origin.period_id.clone();
    text.channel = channel_of(&origin.channel) as i32;
    text.respondent_role = role_of(&origin.respondent_role) as i32;
    text.professional_group = origin.professional_group.clone();
    // A text in the one Swedish answer of a Finnish block would point at its writer.
    if origin.language.is_empty() {
        text.language = Language::Unspecified as i32;
    }
    text.sequence = 0;
}

fn language_of(code: &str) -> Language {
    match code {
        "fi" => Language::Fi,
        "sv" => Language::Sv,
        "en" => Language::En,
        _ => Language::Unspecified,
    }
}

fn sentiment_of(code: &str) -> Sentiment {
    match code {
        "positive" => Sentiment::Positive,
        "negative" => Sentiment::Negative,
        "neutral" => Sentiment::Neutral,
        _ => Sentiment::Unspecified,
    }
}

fn channel_of(code: &str) -> Channel {
    Channel::from_str_name(&format!("CHANNEL_{}", code.to_uppercase()))
        .unwrap_or(Channel::Unspecified)
}

fn role_of(code: &str) -> RespondentRole {
    RespondentRole::from_str_name(&format!("RESPONDENT_ROLE_{}", code.to_uppercase()))
        .unwrap_or(RespondentRole::Unspecified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_become_prefixes_a_little_shorter_than_the_word() {
        assert_eq!(search_query("odotus").as_deref(), Some("odot:*"));
        assert_eq!(
            search_query("Väntetiden kö").as_deref(),
            Some("väntetid:* & kö:*")
        );
        assert_eq!(search_query("hoito").as_deref(), Some("hoit:*"));
        assert_eq!(
            search_query("'); drop table --").as_deref(),
            Some("dro:* & tabl:*")
        );
        assert_eq!(search_query("  ,. "), None);
    }

    #[test]
    fn page_sizes_and_tokens_are_checked() {
        assert_eq!(parse_page(0, ""), Ok((DEFAULT_PAGE_SIZE, None)));
        assert_eq!(
            parse_page(10, "42.open"),
            Ok((10, Some(Position::After(42, "open".to_owned()))))
        );
        assert_eq!(parse_page(10, "o:20"), Ok((10, Some(Position::Offset(20)))));
        assert!(parse_page(10, "o:x").is_err());
        assert_eq!(parse_page(10, "o:0"), Ok((10, Some(Position::Offset(0)))));
        assert!(parse_page(10, "42").is_err());
        assert_eq!(parse_page(500, "x").map_err(|v| v.fields().len()), Err(2));
    }

    #[test]
    fn unknown_sentiments_are_refused_by_index() {
        assert_eq!(parse_sentiments(&[1, 3]), Ok(vec!["positive", "negative"]));
        assert_eq!(
            parse_sentiments(&[1, 0]).map_err(|v| v
                .fields()
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()),
            Err(vec!["sentiments[1]".to_owned()])
        );
    }
}
