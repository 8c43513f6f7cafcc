-- The SMS gateway's own database: invitations and their conversations. A phone number is here
-- only encrypted and only until its invitation is sent; after that a row holds the number's
-- keyed hash (for the 30-day rule and for matching replies) and nothing that identifies a
-- person. Rows are deleted 60 days after sending.
CREATE TABLE invitation (
    invitation_id uuid PRIMARY KEY,
    -- Keyed hash of the record system's visit id: the same visit delivered twice is one row.
    visit_hash text NOT NULL UNIQUE,
    phone_hash text NOT NULL,
    phone_sealed bytea,
    survey_id text NOT NULL,
    unit_id text NOT NULL,
    professional_group text NOT NULL,
    age_band text NOT NULL,
    language text NOT NULL,
    send_at timestamptz NOT NULL,
    state text NOT NULL CHECK (state IN
        ('scheduled', 'sent', 'awaiting_text', 'submitting', 'done', 'expired', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    sent_at timestamptz,
    score smallint CHECK (score BETWEEN 0 AND 10),
    answered_at timestamptz,
    -- The reply text only between its arrival and intake's acknowledgement.
    reply_text text,
    -- Intake's idempotency key: a retried submission is stored once.
    submission_id uuid NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (state = 'scheduled' OR phone_sealed IS NULL)
);

CREATE INDEX invitation_due ON invitation (send_at) WHERE state = 'scheduled';
CREATE INDEX invitation_by_phone ON invitation (phone_hash, send_at DESC);
CREATE INDEX invitation_open ON invitation (state, answered_at) WHERE state IN ('awaiting_text', 'submitting', 'sent');
