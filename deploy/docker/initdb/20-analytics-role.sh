#!/bin/sh
# Analytics' login role, which may only read (kaiku_reader; the projection's migration 0007
# grants it SELECT on the read models). Runs once, when the postgres volume is first made.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE kaiku_reader NOLOGIN;
CREATE ROLE kaiku_analytics LOGIN PASSWORD '${KAIKU_ANALYTICS_DB_PASSWORD:-kaiku-analytics-dev-only}' IN ROLE kaiku_reader;
SQL
