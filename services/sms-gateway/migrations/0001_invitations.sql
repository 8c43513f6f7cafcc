-- The SMS gateway's own database: invitations and their conversations. A phone number is here
-- only encrypted and only until its invitation is sent; after that a row holds the number's
-- keyed hash (for the 30-day rule and for matching replies). Once a conversation is over the
-- row keeps only that hash, its state and its send time: the answer, its submission id and the
-- unit are cleared, so even with the hashing secret a number cannot be joined to an answer.
-- Rows are deleted 60 days after sending.
CREATE TABLE invitation (
    invitation_id uuid PRIMARY KEY,
    -- Keyed hash of the record system's visit id: the same visit delivered twice is one row.
    visit_hash text NOT NULL UNIQUE,
    phone_hash text NOT NULL,
    phone_sealed bytea,
    survey_id text,
    unit_id text,
    professional_group text,
    age_band text,
    language text NOT NULL,
    send_at timestamptz NOT NULL,
    state text NOT NULL CHECK (state IN
        ('scheduled', 'sent', 'awaiting_text', 'submitting', 'done', 'expired', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    -- "Reply with a number" is sent once per invitation, so an auto-responder cannot ping-pong.
    reprompted boolean NOT NULL DEFAULT false,
    sent_at timestamptz,
    score smallint CHECK (score BETWEEN 0 AND 10),
    answered_at timestamptz,
    -- The reply text only between its arrival and intake's acknowledgement.
    reply_text text,
    -- Intake's idempotency key: a retried submission is stored once.
    submission_id uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (state = 'scheduled' OR phone_sealed IS NULL)
);

CREATE INDEX invitation_due ON invitation (send_at) WHERE state = 'scheduled';
CREATE INDEX invitation_by_phone ON invitation (phone_hash, send_at DESC);
CREATE INDEX invitation_open ON invitation (state, answered_at) WHERE state IN ('awaiting_text', 'submitting', 'sent');
