-- Issue 4: one score histogram per day and dimension for every scored question (NPS 0-10,
-- statements 1-5 and "don't know", faces), response counts per day and dimension, and the
-- organisation-unit tree for subtree filters. Written by the projection, aggregated per batch.

create table org_unit (
    unit_id        text primary key,
    parent_unit_id text not null default '',
    level          text not null,
    closed         boolean not null default false,
    -- The unit's ancestors from the county down, ending with the unit itself; a subtree query
    -- is `path && array[...]`.
    path           text[] not null
);
create index org_unit_path on org_unit using gin (path);

create table answer_daily (
    survey_id          uuid not null,
    question_key       text not null,
    kind               text not null,
    unit_id            text not null,
    day                date not null,
    period_id          text not null,
    channel            text not null,
    respondent_role    text not null,
    professional_group text not null,
    age_band           text not null,
    language           text not null,
    -- The answer: 0-10 for NPS, 1-5 for statements, 1-5 for faces; -1 is "don't know".
    score              smallint not null,
    answers            bigint not null,
    primary key (survey_id, question_key, unit_id, day, period_id, channel, respondent_role,
                 professional_group, age_band, language, score)
);

create table response_daily (
    survey_id          uuid not null,
    unit_id            text not null,
    day                date not null,
    period_id          text not null,
    channel            text not null,
    respondent_role    text not null,
    professional_group text not null,
    age_band           text not null,
    language           text not null,
    responses          bigint not null,
    primary key (survey_id, unit_id, day, period_id, channel, respondent_role,
                 professional_group, age_band, language)
);

-- Carry over what the walking skeleton already projected.
insert into answer_daily
select r.survey_id, s.question_key, s.kind, r.unit_id, r.answered_on, r.period_id, r.channel,
       r.respondent_role, r.professional_group, r.age_band, r.language,
       case when s.dont_know then -1 else s.score end, count(*)
from answer_score s join response r using (submission_id)
group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12;

insert into response_daily
select survey_id, unit_id, answered_on, period_id, channel, respondent_role, professional_group,
       age_band, language, count(*)
from response
group by 1, 2, 3, 4, 5, 6, 7, 8, 9;

drop table nps_daily;

-- Unit events were skipped until now: replay KAIKU_SURVEYS (its survey writes are idempotent)
-- so the tree is complete.
update projection_checkpoint set last_sequence = 0 where stream = 'KAIKU_SURVEYS';
