//! Open feedback through the running system: inflected search in Finnish and Swedish,
//! sentiment and theme filters, keyset paging and small-group suppression.

use kaiku_proto::analytics::v1::{ListFeedbackTextsRequest, ResponseFilter, Sentiment};
use kaiku_proto::intake::v1::{Answer, OpenTextAnswer, answer::Value};
use kaiku_proto::survey::v1::{Language, RespondentRole};
use kaiku_system_tests::{Stack, TestResult, nps_answer};

/// (unit, language, text) of every open answer submitted.
const TEXTS: [(&str, Language, &str); 9] = [
    ("school-1", Language::Fi, "Odotus oli liian pitkä."),
    (
        "school-1",
        Language::Fi,
        "Odotuksen jälkeen kuraattori kuunteli hyvin.",
    ),
    (
        "school-1",
        Language::Fi,
        "Liikaa odotusta ja huono kohtelu.",
    ),
    (
        "school-1",
        Language::Fi,
        "Kiitos avusta, tapaamisesta oli paljon hyötyä!",
    ),
    (
        "school-1",
        Language::Fi,
        "Ajanvaraus puhelimella oli hankalaa.",
    ),
    ("school-1", Language::Sv, "Väntetiden var för lång."),
    ("school-1", Language::Sv, "Bra bemötande, tack!"),
    ("school-2", Language::Fi, "Tosi hyvä kokemus."),
    ("school-2", Language::Sv, "Kuratorn lyssnade."),
];

async fn setup(stack: &Stack) -> TestResult<(String, u64)> {
    let survey_id = stack.publish_nps_survey(&["school-1", "school-2"]).await?;
    let mut requests = Vec::new();
    for (unit, language, text) in TEXTS {
        let mut request = nps_answer(&survey_id, unit, RespondentRole::Client, 8);
        if let Some(context) = request.context.as_mut() {
            context.language = language as i32;
        }
        request.answers.push(Answer {
            question_key: "open_feedback".into(),
            value: Some(Value::OpenText(OpenTextAnswer { text: text.into() })),
        });
        requests.push(request);
    }
    // More school-1 answers without text, so school-1 is a large enough group on its own.
    for _ in 0..3 {
        requests.push(nps_answer(
            &survey_id,
            "school-1",
            RespondentRole::Client,
            9,
        ));
    }
    let last = stack.submit_batch(requests).await?;
    Ok((survey_id, last))
}

fn request(survey_id: &str, last: u64) -> ListFeedbackTextsRequest {
    ListFeedbackTextsRequest {
        survey_id: survey_id.into(),
        filter: Some(kaiku_system_tests::clients()),
        min_sequence: last,
        search: String::new(),
        sentiments: vec![],
        themes: vec![],
        question_keys: vec![],
        page_size: 0,
        page_token: String::new(),
    }
}

fn bodies(reply: &kaiku_proto::analytics::v1::ListFeedbackTextsResponse) -> Vec<String> {
    let mut texts: Vec<String> = reply.texts.iter().map(|t| t.text.clone()).collect();
    texts.sort();
    texts
}

fn sorted(texts: &[&str]) -> Vec<String> {
    let mut texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
    texts.sort();
    texts
}

#[tokio::test]
async fn search_finds_inflected_forms_and_tags_filter_texts() -> TestResult {
    let stack = Stack::start().await?;
    let (survey_id, last) = setup(&stack).await?;
    let mut analytics = stack.analytics().await?;

    let odotus = analytics
        .list_feedback_texts(ListFeedbackTextsRequest {
            search: "odotus".into(),
            ..request(&survey_id, last)
        })
        .await?
        .into_inner();
    assert_eq!(
        bodies(&odotus),
        sorted(&[
            "Odotus oli liian pitkä.",
            "Odotuksen jälkeen kuraattori kuunteli hyvin.",
            "Liikaa odotusta ja huono kohtelu.",
        ])
    );
    let swedish = analytics
        .list_feedback_texts(ListFeedbackTextsRequest {
            search: "väntetid".into(),
            ..request(&survey_id, last)
        })
        .await?
        .into_inner();
    assert_eq!(bodies(&swedish), sorted(&["Väntetiden var för lång."]));

    let positive = analytics
        .list_feedback_texts(ListFeedbackTextsRequest {
            sentiments: vec![Sentiment::Positive as i32],
            ..request(&survey_id, last)
        })
        .await?
        .into_inner();
    assert_eq!(
        bodies(&positive),
        sorted(&[
            "Odotuksen jälkeen kuraattori kuunteli hyvin.",
            "Kiitos avusta, tapaamisesta oli paljon hyötyä!",
            "Bra bemötande, tack!",
            "Tosi hyvä kokemus.",
            "Kuratorn lyssnade.",
        ])
    );
    let booking = analytics
        .list_feedback_texts(ListFeedbackTextsRequest {
            themes: vec!["booking".into()],
            ..request(&survey_id, last)
        })
        .await?
        .into_inner();
    assert_eq!(
        bodies(&booking),
        sorted(&["Ajanvaraus puhelimella oli hankalaa."])
    );
    let tagged = &booking.texts[0];
    assert_eq!(tagged.sentiment, Sentiment::Negative as i32);
    assert_eq!(tagged.unit_id, "school-1");
    Ok(())
}

#[tokio::test]
async fn pages_cover_every_text_once_and_small_groups_show_none() -> TestResult {
    let stack = Stack::start().await?;
    let (survey_id, last) = setup(&stack).await?;
    let mut analytics = stack.analytics().await?;

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = analytics
            .list_feedback_texts(ListFeedbackTextsRequest {
                page_size: 2,
                page_token: token.clone(),
                ..request(&survey_id, last)
            })
            .await?
            .into_inner();
        pages += 1;
        assert!(page.texts.len() <= 2);
        seen.extend(page.texts.into_iter().map(|t| t.text));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, 5);
    seen.sort();
    let all: Vec<&str> = TEXTS.iter().map(|(_, _, text)| *text).collect();
    assert_eq!(seen, sorted(&all));

    // school-2 has two responses: below the minimum group size, so no texts at all.
    let small = analytics
        .list_feedback_texts(ListFeedbackTextsRequest {
            filter: Some(ResponseFilter {
                unit_ids: vec!["school-2".into()],
                ..kaiku_system_tests::clients()
            }),
            ..request(&survey_id, last)
        })
        .await?
        .into_inner();
    assert!(small.suppressed && small.texts.is_empty());

    let refused = analytics
        .list_feedback_texts(ListFeedbackTextsRequest {
            sentiments: vec![0],
            page_size: 500,
            page_token: "nonsense".into(),
            ..request(&survey_id, last)
        })
        .await
        .expect_err("invalid paging and sentiment");
    let fields: Vec<String> = kaiku_grpc::bad_request_fields(&refused)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, vec!["sentiments[0]", "page_size", "page_token"]);
    Ok(())
}
