-- Feedback handling (KAIKU_HANDLING): one row per case with what the handling reports need.
-- No content: the respondent's message and contact details stay sealed in the stream, so they
-- never reach this database; not even the assignee is kept (reports are per unit and kind).
CREATE TABLE handling_case (
    case_id uuid PRIMARY KEY,
    unit_id text NOT NULL,
    kind text NOT NULL,
    origin text NOT NULL,
    channel text NOT NULL,
    contact_requested boolean NOT NULL,
    received_at timestamptz NOT NULL,
    -- Europe/Helsinki day of receiving, for date-range reports.
    received_on date NOT NULL,
    reply_due_on date NOT NULL,
    state text NOT NULL,
    -- Replied to, or closed when no reply was asked: the first of the two.
    handled_at timestamptz,
    replied_at timestamptz,
    closed_at timestamptz,
    escalated_to text,
    content_erased boolean NOT NULL DEFAULT false,
    last_sequence bigint NOT NULL
);

CREATE INDEX handling_case_unit_received ON handling_case (unit_id, received_on);
