-- How many points a scored question's scale has, so that analytics can report a face question
-- (three or five faces) beside the five-point statements: its distribution, mean and the share
-- of the happiest face. 11 for NPS (0-10), 5 for statements, the number of faces for smileys,
-- 0 for unscored kinds.
ALTER TABLE survey_question ADD COLUMN scale_points smallint NOT NULL DEFAULT 0;

-- Rows projected before this column existed. Statements and NPS have fixed scales. A face
-- question's number of faces was not kept: take five when any answer above three was counted,
-- else three (the children's form's scale). A rebuild from the stream (ADR 0007) writes the
-- exact number.
UPDATE survey_question SET scale_points = 11 WHERE kind = 'nps';
UPDATE survey_question SET scale_points = 5 WHERE kind = 'statement';
UPDATE survey_question q SET scale_points = CASE
        WHEN EXISTS (
            SELECT 1 FROM answer_rollup r
            WHERE r.survey_id = q.survey_id AND r.question_key = q.question_key
              AND r.kind = 'smiley' AND (r.s4 > 0 OR r.s5 > 0)
        ) THEN 5
        ELSE 3
    END
WHERE kind = 'smiley';
