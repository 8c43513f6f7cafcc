-- Sentiment and themes of each open text, tagged by the projection with the feedback
-- dictionary (kaiku-domain feedback module), and the order texts are listed in.
alter table feedback_text
    add column sentiment text not null default 'neutral',
    add column themes text[] not null default '{}';
create index feedback_text_themes on feedback_text using gin (themes);
create index response_survey_sequence on response (survey_id, stream_sequence desc);
