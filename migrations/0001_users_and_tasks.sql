-- 0001: accounts and tasks, the tables the `api` component owns.
--
-- Conventions for every migration in this folder (see migrations/README.md):
--   * Forward-only and never edited once landed: the `migrate` component refuses to run when the
--     checksum of an applied file changes. Fix a mistake with a new migration.
--   * One statement per `;`. Each statement is sent on its own (Spin's PostgreSQL interface uses
--     the extended protocol, which takes one statement at a time), all inside one transaction.
--   * Instants are `timestamptz`. Spin's pg4 interface cannot read or bind `timestamptz`
--     directly, so components write `($1::timestamp AT TIME ZONE 'UTC')` and read
--     `(col AT TIME ZONE 'UTC')`, both as UTC `NaiveDateTime` (see docs/architecture.md).
--   * Constraints are named: the API turns a violated constraint's name into a field error.

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stored trimmed and lower-cased by the API, so a plain unique constraint is also
    -- case-insensitive and can serve lookups by email at login.
    email         text        NOT NULL,
    -- A PHC-format argon2id string ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"); never the password.
    password_hash text        NOT NULL,
    name          text,
    -- An IANA time zone name ("Europe/Paris"), validated by the API. Reminders and recurrence
    -- expand local times in it; every stored instant stays UTC.
    timezone      text        NOT NULL DEFAULT 'UTC',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_normalized CHECK (email = lower(btrim(email)) AND email <> '')
);

CREATE TABLE tasks (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id               uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title                 text        NOT NULL,
    description           text,
    priority              text        NOT NULL DEFAULT 'medium',
    is_completed          boolean     NOT NULL DEFAULT false,
    completed_at          timestamptz,
    due_date              timestamptz,
    -- The single absolute reminder of the seed's task model. Relative and multiple reminders
    -- live in the reminders table that the reminders migration adds.
    reminder_time         timestamptz,
    -- Free-form labels; `tasks_tags_idx` serves tag filters (`tags @> ARRAY[$1]`).
    tags                  text[]      NOT NULL DEFAULT '{}',
    is_recurring          boolean     NOT NULL DEFAULT false,
    -- The series this task is an instance of. Its foreign key is added by the migration that
    -- creates recurrence_patterns; until then the column is always NULL.
    recurrence_pattern_id uuid,
    -- Optimistic concurrency: every UPDATE sets `version = version + 1 ... WHERE version = $n`.
    -- The API exposes it as the ETag, so If-Match on a stale version matches no row (412).
    version               integer     NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tasks_title_length CHECK (char_length(title) BETWEEN 1 AND 500),
    CONSTRAINT tasks_priority_check CHECK (priority IN ('low', 'medium', 'high')),
    -- completed_at is set exactly when the task is completed, so the two can never disagree.
    CONSTRAINT tasks_completed_at_matches CHECK (is_completed = (completed_at IS NOT NULL)),
    CONSTRAINT tasks_tags_no_nulls CHECK (array_position(tags, NULL) IS NULL),
    CONSTRAINT tasks_version_positive CHECK (version > 0)
);

-- A user's task list, newest first, with `id` as the tie-breaker that keeps cursor pages
-- stable under concurrent inserts.
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at DESC, id DESC);

-- Due-date filters and sorts, and the overdue view.
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_date, id) WHERE due_date IS NOT NULL;

CREATE INDEX tasks_tags_idx ON tasks USING gin (tags);
