#!/bin/sh
# Kaiku's database roles, once, when the postgres volume is first made:
#   kaiku_owner       owns the database and its read models; runs the migrations (the
#                     `migrate` service) and `projection --rebuild`
#   kaiku_projection  the projection's login, in kaiku_writer: rows only, not the schema
#                     (migration 0008 grants it)
#   kaiku_analytics   analytics' login, in kaiku_reader: read only (migration 0007)
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE kaiku_owner LOGIN PASSWORD '${KAIKU_OWNER_DB_PASSWORD:-kaiku-owner-dev-only}';
ALTER DATABASE "$POSTGRES_DB" OWNER TO kaiku_owner;
CREATE ROLE kaiku_writer NOLOGIN;
CREATE ROLE kaiku_projection LOGIN PASSWORD '${KAIKU_PROJECTION_DB_PASSWORD:-kaiku-projection-dev-only}' IN ROLE kaiku_writer;
CREATE ROLE kaiku_reader NOLOGIN;
CREATE ROLE kaiku_analytics LOGIN PASSWORD '${KAIKU_ANALYTICS_DB_PASSWORD:-kaiku-analytics-dev-only}' IN ROLE kaiku_reader;
SQL
