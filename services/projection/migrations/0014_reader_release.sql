-- Releases to readers (ADR 0020): readers are answered from atoms, disjoint sets of at least
-- the minimum group size of responses, released together and never changed, so that a reader
-- who asks again after new answers sees no single answer as the difference.
--
-- The schema is apart from the read model's: a rebuild makes the read model again from the
-- streams, but what readers have already been shown cannot be made again (the atoms depend
-- on when each was released), so a rebuild neither copies nor drops it. The migration runs in
-- every schema a rebuild migrates, hence "if not exists".
CREATE SCHEMA IF NOT EXISTS reader_release;

-- Per survey: every response up to released_through has been considered (released in an atom,
-- or held back until its block has the minimum of new ones).
CREATE TABLE IF NOT EXISTS reader_release.survey (
    survey_id        uuid primary key,
    released_through bigint not null check (released_through >= 0),
    released_at      timestamptz not null
);

CREATE TABLE IF NOT EXISTS reader_release.atom (
    atom_id          bigserial primary key,
    survey_id        uuid not null,
    released_through bigint not null,
    responses        bigint not null check (responses > 0),
    released_at      timestamptz not null default now()
);
CREATE INDEX IF NOT EXISTS atom_survey ON reader_release.atom (survey_id);

-- An atom's cells, with how many of its responses each holds.
CREATE TABLE IF NOT EXISTS reader_release.atom_cell (
    atom_id            bigint not null references reader_release.atom on delete cascade,
    unit_id            text not null,
    month              date not null,
    period_id          text not null,
    channel            text not null,
    respondent_role    text not null,
    professional_group text not null,
    age_band           text not null,
    language           text not null,
    responses          bigint not null check (responses > 0),
    primary key (atom_id, unit_id, month, period_id, channel, respondent_role,
                 professional_group, age_band, language)
);

-- Which atom each released response is in, by its submission id: a response's stream sequence
-- can change in a rebuild (one erased before it was projected takes its redaction's), its
-- submission id cannot.
CREATE TABLE IF NOT EXISTS reader_release.released (
    submission_id uuid primary key,
    atom_id       bigint not null references reader_release.atom on delete cascade
);

-- An atom's answers by question and score (-1 is "don't know"), counted when it was released.
CREATE TABLE IF NOT EXISTS reader_release.atom_answer (
    atom_id      bigint not null references reader_release.atom on delete cascade,
    question_key text not null,
    score        smallint not null,
    answers      bigint not null check (answers > 0),
    primary key (atom_id, question_key, score)
);

DO $$
BEGIN
    GRANT USAGE ON SCHEMA reader_release TO kaiku_reader, kaiku_writer;
    GRANT SELECT ON ALL TABLES IN SCHEMA reader_release TO kaiku_reader;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA reader_release TO kaiku_writer;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA reader_release TO kaiku_writer;
END
$$;
