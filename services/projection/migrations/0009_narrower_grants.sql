-- Narrower than 0007 and 0008 granted by "all tables": the projection's role may not write the
-- migration history (it could make the next migration skip or fail), and analytics' role may
-- not read the dead-letter table (an event's payload lands there whole, open texts included;
-- an operator reads it as the owner).
DO $$
BEGIN
    IF to_regclass(format('%I._sqlx_migrations', current_schema())) IS NOT NULL THEN
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON %I._sqlx_migrations FROM kaiku_writer', current_schema());
        EXECUTE format('REVOKE SELECT ON %I._sqlx_migrations FROM kaiku_reader', current_schema());
    END IF;
    EXECUTE format('REVOKE SELECT ON %I.dead_letter FROM kaiku_reader', current_schema());
END
$$;
