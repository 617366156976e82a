-- The PostgreSQL role Grafana reads Plexus with: SELECT on the telemetry view, series and
-- points_1m, and nothing else. See docs/grafana.md.
--
-- Run it in the Plexus database after Plexus has migrated it, as a role that owns those tables
-- (or a superuser) and may create roles, e.g.
--   psql "postgres://postgres@127.0.0.1:5432/plexus" -v ON_ERROR_STOP=1 -f deploy/grafana/readonly-role.sql
-- then give the role a password: psql … -c '\password plexus_grafana'
-- It can be run again (after a Plexus upgrade, say): it changes nothing that is already so.
--
-- This role sees every org's telemetry. For one org only, use deploy/grafana/org-role.sql.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'plexus_grafana') THEN
    CREATE ROLE plexus_grafana LOGIN;
  END IF;
END
$$;

-- Only these three. The view reads points with its owner's rights, so the role needs (and gets)
-- no right on points itself; api_keys, orgs, sources and the rest stay out of its reach.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM plexus_grafana;
GRANT USAGE ON SCHEMA public TO plexus_grafana;
GRANT SELECT ON public.telemetry, public.series, public.points_1m TO plexus_grafana;

-- A seatbelt, not the lock (the grants above are): the role could switch it off per session.
ALTER ROLE plexus_grafana SET default_transaction_read_only = on;
-- Bounds: a dashboard query over a huge range is cancelled after a minute (use points_1m for
-- long ranges), and Grafana cannot hold more than 20 connections.
ALTER ROLE plexus_grafana SET statement_timeout = '60s';
ALTER ROLE plexus_grafana CONNECTION LIMIT 20;
