-- Least privilege for readers: analytics connects as a login role in kaiku_reader, which may
-- read the read models and nothing else (no insert, update, delete, DDL). The projection, which
-- owns the tables, keeps writing. Runs in whatever schema the migrator is in, so a rebuild's
-- fresh schema gets the same grants; tables later migrations create are granted by default.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_reader') THEN
        CREATE ROLE kaiku_reader NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO kaiku_reader', current_schema());
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO kaiku_reader', current_schema());
END
$$;

ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO kaiku_reader;
