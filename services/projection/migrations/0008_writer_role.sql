-- Least privilege for the running projection: it connects as a login role in kaiku_writer, which
-- may read and write the rows of the read models and change nothing else (no CREATE, ALTER,
-- DROP or TRUNCATE). Migrations and rebuilds run as the tables' owner (kaiku_owner in compose and
-- Kubernetes), `projection --migrate-only` and `--rebuild`. Like 0007, this runs in whatever
-- schema the migrator is in (a rebuild's fresh schema gets the same grants), and tables and
-- sequences later migrations create are granted by default.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_writer') THEN
        CREATE ROLE kaiku_writer NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO kaiku_writer', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO kaiku_writer', current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO kaiku_writer', current_schema());
END
$$;

ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kaiku_writer;
ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO kaiku_writer;
