-- PostgreSQL roles for recall's state: a read-only role for the plan jobs
-- (pull requests) and a writer role for the apply jobs (the default branch).
--
-- Run once, as the database owner or a superuser, connected to the database
-- that holds the state:
--
--   psql "postgres://ADMIN@HOST:5432/DB?sslmode=verify-full" -v ON_ERROR_STOP=1 -f postgres-roles.sql
--
-- then set each role's password without it landing in a file, the shell's
-- history or the server's log:
--
--   psql ... -c '\password recall_apply'
--   psql ... -c '\password recall_plan'
--
-- The names used here: schema recall (recall's default; a URL's ?schema=
-- parameter picks another), roles recall_plan and recall_apply.
--
-- What each role needs, from state/pg:
--   plan   reads recall_schema_version, recall_states and recall_messages in
--          a read-only transaction: SELECT only. plan never locks (no
--          advisory lock, no row in recall_locks), so it runs while an apply
--          holds the lock.
--   apply  also takes the workspace's lock (a session advisory lock, which
--          needs no grant, and a row in recall_locks), writes recall_states
--          and recall_messages, and on first use creates the four tables
--          (and, after an upgrade of recall, migrates them). So it owns the
--          schema. state push/rm/mv, workspace new/delete and force-unlock
--          need the writer too (force-unlock ends the holder's session with
--          pg_terminate_backend, allowed because every apply runs as this
--          same role).
--
-- Order: the tables do not exist until the writer first connects, and until
-- then a plan as recall_plan fails ("cannot create recall's tables ...
-- lacks the rights"). Run any command once as the writer to create them,
-- before the first pull request, e.g.
--
--   PGUSER=recall_apply PGPASSWORD=... recall state list -state "postgres://HOST:5432/DB?sslmode=verify-full"
--
-- The same holds after upgrading recall to a release with a newer schema:
-- the first run of the new release must be the writer's (merge the version
-- bump and let apply run, or run the command above with the new release)
-- before plans of that release pass.

-- The writer. NOLOGIN roles cannot connect; LOGIN without PASSWORD cannot
-- log in with password authentication until \password sets one.
CREATE ROLE recall_apply LOGIN;
CREATE ROLE recall_plan LOGIN;

-- If PUBLIC's CONNECT on the database was revoked, grant it back to both:
--   GRANT CONNECT ON DATABASE your_database TO recall_apply, recall_plan;

-- The writer owns the schema, so it creates (and later migrates) the tables.
CREATE SCHEMA recall AUTHORIZATION recall_apply;

-- The reader may look inside the schema and read every table the writer
-- creates there, now or later (the default privileges cover the tables the
-- writer creates on first use and in later migrations).
GRANT USAGE ON SCHEMA recall TO recall_plan;
ALTER DEFAULT PRIVILEGES FOR ROLE recall_apply IN SCHEMA recall GRANT SELECT ON TABLES TO recall_plan;

-- A schema that already exists, with tables that another role (say, the
-- admin) created on an earlier run: instead of CREATE SCHEMA above, hand
-- them to the writer and let the reader read them:
--
--   ALTER SCHEMA recall OWNER TO recall_apply;
--   ALTER TABLE recall.recall_schema_version OWNER TO recall_apply;
--   ALTER TABLE recall.recall_states OWNER TO recall_apply;
--   ALTER TABLE recall.recall_messages OWNER TO recall_apply;
--   ALTER TABLE recall.recall_locks OWNER TO recall_apply;
--   GRANT SELECT ON ALL TABLES IN SCHEMA recall TO recall_plan;
