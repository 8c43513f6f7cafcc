-- Rollups in cuboids at three grains, with the scores as columns, and each response's answers
-- kept on the response row (ADR 0006). With one row per score, day and combination of every
-- dimension, a two-year figure over ten million responses read millions of rows; now a query
-- reads the smallest cuboid that keeps the dimensions it filters and groups by, at the coarsest
-- grain its buckets allow. The fact tables answer_score and answer_choice were read only by the
-- export, which now reads `response.answers`.

-- What the export shows for each scored or chosen answer, keyed by question key.
alter table response add column answers jsonb not null default '{}';
update response r set answers = coalesce((
    select jsonb_object_agg(question_key, value) from (
        select question_key, case when dont_know then 'dont_know' else score::text end as value
        from answer_score s where s.submission_id = r.submission_id
        union all
        select question_key, string_agg(option_key, ';' order by option_key)
        from answer_choice c where c.submission_id = r.submission_id
        group by question_key) answered), '{}');
drop table answer_score;
drop table answer_choice;

-- cuboid: which dimensions the row keeps (kaiku_domain::rollup::Cuboid; the others are '');
-- grain: 'day', 'week' (ISO, from Monday) or 'month'; bucket: the first day of the bucket.
create table answer_rollup (
    survey_id          uuid not null,
    question_key       text not null,
    kind               text not null,
    cuboid             text not null,
    grain              text not null check (grain in ('day', 'week', 'month')),
    bucket             date not null,
    unit_id            text not null,
    period_id          text not null,
    channel            text not null,
    respondent_role    text not null,
    professional_group text not null,
    age_band           text not null,
    language           text not null,
    -- Answers by score: NPS 0-10, statements and faces 1-5, and "don't know".
    dont_know bigint not null default 0,
    s0 bigint not null default 0,
    s1 bigint not null default 0,
    s2 bigint not null default 0,
    s3 bigint not null default 0,
    s4 bigint not null default 0,
    s5 bigint not null default 0,
    s6 bigint not null default 0,
    s7 bigint not null default 0,
    s8 bigint not null default 0,
    s9 bigint not null default 0,
    s10 bigint not null default 0,
    primary key (survey_id, question_key, cuboid, grain, bucket, unit_id, period_id, channel,
                 respondent_role, professional_group, age_band, language)
) with (fillfactor = 50); -- room on each page for counter updates in place (HOT): measured
                          -- 30 % faster batch upserts during catch-up than at 100

create table response_rollup (
    survey_id          uuid not null,
    cuboid             text not null,
    grain              text not null check (grain in ('day', 'week', 'month')),
    bucket             date not null,
    unit_id            text not null,
    period_id          text not null,
    channel            text not null,
    respondent_role    text not null,
    professional_group text not null,
    age_band           text not null,
    language           text not null,
    responses          bigint not null,
    primary key (survey_id, cuboid, grain, bucket, unit_id, period_id, channel, respondent_role,
                 professional_group, age_band, language)
) with (fillfactor = 50);

-- Carry over what is already projected.
insert into answer_rollup
select survey_id, question_key, min(kind), c.cuboid, g.grain, case g.grain when 'day' then day when 'week' then date_trunc('week', day)::date else date_trunc('month', day)::date end,
       case when c.keeps_unit then unit_id else '' end, period_id,
       case when c.keeps_channel then channel else '' end, respondent_role,
       case when c.keeps_respondent then professional_group else '' end,
       case when c.keeps_respondent then age_band else '' end,
       case when c.keeps_respondent then language else '' end,
       coalesce(sum(answers) filter (where score = -1), 0),
       coalesce(sum(answers) filter (where score = 0), 0),
       coalesce(sum(answers) filter (where score = 1), 0),
       coalesce(sum(answers) filter (where score = 2), 0),
       coalesce(sum(answers) filter (where score = 3), 0),
       coalesce(sum(answers) filter (where score = 4), 0),
       coalesce(sum(answers) filter (where score = 5), 0),
       coalesce(sum(answers) filter (where score = 6), 0),
       coalesce(sum(answers) filter (where score = 7), 0),
       coalesce(sum(answers) filter (where score = 8), 0),
       coalesce(sum(answers) filter (where score = 9), 0),
       coalesce(sum(answers) filter (where score = 10), 0)
from answer_daily
     cross join (values ('day'), ('week'), ('month')) as g(grain)
     cross join (values ('survey', false, false, false), ('channel', false, true, false),
                   ('respondent', false, false, true), ('unit', true, false, false),
                   ('unit_channel', true, true, false), ('all', true, true, true))
          as c(cuboid, keeps_unit, keeps_channel, keeps_respondent)
group by survey_id, question_key, c.cuboid, g.grain, 6, 7, 8, 9, 10, 11, 12, 13;

insert into response_rollup
select survey_id, c.cuboid, g.grain, case g.grain when 'day' then day when 'week' then date_trunc('week', day)::date else date_trunc('month', day)::date end,
       case when c.keeps_unit then unit_id else '' end, period_id,
       case when c.keeps_channel then channel else '' end, respondent_role,
       case when c.keeps_respondent then professional_group else '' end,
       case when c.keeps_respondent then age_band else '' end,
       case when c.keeps_respondent then language else '' end,
       sum(responses)
from response_daily
     cross join (values ('day'), ('week'), ('month')) as g(grain)
     cross join (values ('survey', false, false, false), ('channel', false, true, false),
                   ('respondent', false, false, true), ('unit', true, false, false),
                   ('unit_channel', true, true, false), ('all', true, true, true))
          as c(cuboid, keeps_unit, keeps_channel, keeps_respondent)
group by survey_id, c.cuboid, g.grain, 4, 5, 6, 7, 8, 9, 10, 11;

drop table answer_daily;
drop table response_daily;
