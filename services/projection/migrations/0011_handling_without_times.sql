-- handling_case without exact times: a contact request's receiving time, kept beside the
-- response table's, could tie an anonymous answer to a case. Days and the handling time in
-- hours (carried by the reply and close events) are all the reports need (ADR 0013).
ALTER TABLE handling_case
    DROP COLUMN received_at,
    DROP COLUMN handled_at,
    DROP COLUMN replied_at,
    DROP COLUMN closed_at,
    ADD COLUMN replied boolean NOT NULL DEFAULT false,
    ADD COLUMN closed boolean NOT NULL DEFAULT false,
    -- The Helsinki day the case was first replied to or closed, and the hours it took.
    ADD COLUMN handled_on date,
    ADD COLUMN handling_hours double precision;
