-- A finished invitation (done, expired, failed) keeps days, not times. Analytics knows when each
-- answer was given, so an exact send or finish time next to a number's keyed hash could pick out
-- that number's answer; a Helsinki calendar day is shared by many. The row keeps the day it was
-- sent (NULL if it never was: the 30-day rule counts only sent invitations) and the day it
-- finished (for deleting rows that were never sent).
ALTER TABLE invitation
    ADD COLUMN sent_on date,
    ADD COLUMN finished_on date,
    ALTER COLUMN send_at DROP NOT NULL,
    ALTER COLUMN updated_at DROP NOT NULL;

-- Rows finished before this migration lose their times too.
UPDATE invitation SET
    sent_on = (sent_at AT TIME ZONE 'Europe/Helsinki')::date,
    finished_on = (updated_at AT TIME ZONE 'Europe/Helsinki')::date,
    send_at = NULL,
    sent_at = NULL,
    answered_at = NULL,
    updated_at = NULL
WHERE state IN ('done', 'expired', 'failed');

-- Open invitations keep their times (scheduling and the reply window need them); finished ones
-- cannot hold one.
ALTER TABLE invitation ADD CONSTRAINT invitation_finished_keeps_days CHECK (
    CASE WHEN state IN ('done', 'expired', 'failed')
        THEN send_at IS NULL AND sent_at IS NULL AND answered_at IS NULL AND updated_at IS NULL
            AND finished_on IS NOT NULL
        ELSE send_at IS NOT NULL AND updated_at IS NOT NULL AND sent_on IS NULL AND finished_on IS NULL
    END
);
