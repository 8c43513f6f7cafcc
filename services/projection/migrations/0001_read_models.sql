-- Kaiku read models. Written only by the projection service; everything here can be dropped and
-- rebuilt from the JetStream streams. Dimension columns are NOT NULL with '' for "not given", so
-- they can be part of primary keys.

-- How far each stream has been applied. Updated in the same transaction as the rows it covers.
create table projection_checkpoint (
    stream        text primary key,
    last_sequence bigint not null check (last_sequence >= 0),
    updated_at    timestamptz not null default now()
);

-- Events the projection could not decode or apply. They are skipped, not retried forever.
create table dead_letter (
    stream      text not null,
    sequence    bigint not null,
    subject     text not null,
    reason      text not null,
    payload     bytea not null,
    recorded_at timestamptz not null default now(),
    primary key (stream, sequence)
);

create table survey (
    survey_id      uuid primary key,
    status         text not null,
    title_fi       text not null default '',
    title_sv       text not null default '',
    title_en       text not null default '',
    latest_version integer not null default 0,
    created_at     timestamptz,
    last_sequence  bigint not null
);

-- Questions of each published version (keys are stable across versions).
create table survey_question (
    survey_id    uuid not null references survey (survey_id),
    version      integer not null,
    position     integer not null,
    question_key text not null,
    kind         text not null,
    topic        text not null default '',
    required     boolean not null,
    primary key (survey_id, version, question_key)
);

-- One row per response with its dimensions. submission_id is unique: the read model
-- de-duplicates on its own, since JetStream's duplicate window does not cover every retry.
create table response (
    submission_id      uuid primary key,
    stream_sequence    bigint not null unique,
    survey_id          uuid not null,
    survey_version     integer not null,
    unit_id            text not null,
    channel            text not null,
    respondent_role    text not null,
    professional_group text not null default '',
    age_band           text not null default '',
    language           text not null,
    period_id          text not null default '',
    answered_at        timestamptz not null,
    answered_on        date not null, -- Europe/Helsinki day of answered_at
    received_at        timestamptz not null
);
create index response_survey_day on response (survey_id, answered_on);

-- Scored answers: NPS 0-10, statements 1-5 (dont_know with a null score), smiley faces.
create table answer_score (
    submission_id uuid not null references response (submission_id) on delete cascade,
    question_key  text not null,
    kind          text not null,
    score         smallint,
    dont_know     boolean not null default false,
    primary key (submission_id, question_key)
);

create table answer_choice (
    submission_id uuid not null references response (submission_id) on delete cascade,
    question_key  text not null,
    option_key    text not null,
    primary key (submission_id, question_key, option_key)
);

-- Open feedback, already redacted of personal data by intake.
create table feedback_text (
    submission_id uuid not null references response (submission_id) on delete cascade,
    question_key  text not null,
    language      text not null,
    body          text not null,
    search        tsvector generated always as (
        to_tsvector(
            case language when 'sv' then 'swedish'::regconfig
                          when 'en' then 'english'::regconfig
                          else 'finnish'::regconfig end,
            body)
    ) stored,
    primary key (submission_id, question_key)
);
create index feedback_text_search on feedback_text using gin (search);

-- NPS counters per day and every dimension, upserted with each response so figures never scan
-- the fact table.
create table nps_daily (
    survey_id          uuid not null,
    question_key       text not null,
    unit_id            text not null,
    day                date not null,
    channel            text not null,
    respondent_role    text not null,
    professional_group text not null,
    age_band           text not null,
    language           text not null,
    promoters          bigint not null default 0,
    passives           bigint not null default 0,
    detractors         bigint not null default 0,
    primary key (survey_id, question_key, unit_id, day, channel, respondent_role,
                 professional_group, age_band, language)
);
