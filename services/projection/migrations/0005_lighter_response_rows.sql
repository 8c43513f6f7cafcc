-- Catch-up measured on the benchmark set was bound by PostgreSQL's share of the two cores; two
-- costs per response row that nothing needs (ADR 0006):
-- * `answers` is only ever read back as text by the export, so it is stored as the JSON text
--   the projection writes instead of being parsed into jsonb on every insert;
-- * no query filters responses by day without ordering them by sequence, which
--   response_survey_sequence serves, so response_survey_day only cost an index insert.
alter table response alter column answers drop default;
alter table response alter column answers type text using answers::text;
alter table response alter column answers set default '{}';
drop index response_survey_day;
