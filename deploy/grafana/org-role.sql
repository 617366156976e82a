-- A read-only role that sees ONE org: plexus_grafana_<org>, reading the schema grafana_<org>,
-- whose views telemetry, series and points_1m are the public ones filtered by that org.
-- The role's search_path is that schema, so the provisioned dashboard works unchanged.
-- See docs/grafana.md ("One org per role").
--
-- Set the org id on the next line, then run it in the Plexus database as for readonly-role.sql:
--   psql "postgres://postgres@127.0.0.1:5432/plexus" -f deploy/grafana/org-role.sql
-- and give the role a password: psql … -c '\password "plexus_grafana_<org>"'
-- It can be run again; run it again after a Plexus upgrade (see the note at the end).
SET plexus.grafana_org = 'acme';

DO $$
DECLARE
  org_id      text := current_setting('plexus.grafana_org');
  schema_name text := 'grafana_' || org_id;
  role_name   text := 'plexus_grafana_' || org_id;
BEGIN
  -- Org ids are ^[a-z0-9][a-z0-9_-]{0,62}$; PostgreSQL names stop at 63 bytes.
  IF org_id !~ '^[a-z0-9][a-z0-9_-]{0,47}$' THEN
    RAISE EXCEPTION 'org id % is not one this script can name a role after (at most 48 characters of a-z 0-9 _ -)', org_id;
  END IF;

  EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', schema_name);
  -- security_barrier: a function in a user's WHERE clause cannot see rows of other orgs.
  EXECUTE format($v$CREATE OR REPLACE VIEW %I.series WITH (security_barrier) AS
    SELECT * FROM public.series WHERE org_id = %L$v$, schema_name, org_id);
  EXECUTE format($v$CREATE OR REPLACE VIEW %I.telemetry WITH (security_barrier) AS
    SELECT * FROM public.telemetry WHERE org_id = %L$v$, schema_name, org_id);
  EXECUTE format($v$CREATE OR REPLACE VIEW %I.points_1m WITH (security_barrier) AS
    SELECT r.* FROM public.points_1m r JOIN public.series s ON s.id = r.series_id WHERE s.org_id = %L$v$,
    schema_name, org_id);

  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN
    EXECUTE format('CREATE ROLE %I LOGIN', role_name);
  END IF;
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', role_name);
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, role_name);
  EXECUTE format('GRANT SELECT ON %I.telemetry, %I.series, %I.points_1m TO %I', schema_name, schema_name, schema_name, role_name);
  EXECUTE format('ALTER ROLE %I SET search_path = %I', role_name, schema_name);
  EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', role_name);
  EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', role_name, '60s');
  EXECUTE format('ALTER ROLE %I CONNECTION LIMIT 20', role_name);
END
$$;

RESET plexus.grafana_org;

-- These views depend on Plexus's tables: a later Plexus migration that changes a column they
-- show fails until they are gone. Before such an upgrade: DROP SCHEMA "grafana_<org>" CASCADE;
-- afterwards run this file again.
