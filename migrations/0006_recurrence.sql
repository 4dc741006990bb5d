-- 0006: recurring tasks. `recurrence_patterns` (owned by `api`; the `recurrence` component
-- keeps its generation state on the same rows) and, on `tasks`, the occurrence each instance
-- stands for, which makes generation idempotent.
--
-- A pattern is stored both in the seed's structured columns (when it was given that way) and
-- as the one canonical RRULE every pattern has (`rrule`, `dtstart`, `timezone`, `exdates`),
-- which is what expansion reads back (domain::recurrence::RecurrenceRule::parse).

CREATE TABLE recurrence_patterns (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- {title, description, priority, reminder_minutes_before, tags}: what each instance gets.
    task_template     jsonb       NOT NULL,
    -- The seed's structured fields; `custom` when the pattern was given as a raw RRULE.
    frequency         text        NOT NULL,
    interval          integer     NOT NULL DEFAULT 1,
    -- 0 = Monday .. 6 = Sunday.
    days_of_week      integer[],
    -- 1..31, or -1 for the last day of the month.
    day_of_month      integer,
    -- The last local date-time an occurrence may fall on, as given (local to `timezone`).
    end_date          timestamp,
    max_occurrences   integer,
    -- An IANA zone name; the rule's local times are in it.
    timezone          text        NOT NULL DEFAULT 'UTC',
    -- The canonical RFC 5545 RRULE value (no `RRULE:` prefix, UNTIL in UTC).
    rrule             text        NOT NULL,
    -- The series' local start (DTSTART with TZID = timezone): a wall-clock time, no offset.
    dtstart           timestamp   NOT NULL,
    -- EXDATEs, local to `timezone`, as `YYYY-MM-DDTHH:MM:SS`: occurrences that are never made
    -- (given with the pattern, or recorded when one instance is deleted).
    exdates           text[]      NOT NULL DEFAULT '{}',
    -- `fixed`: instances exist ahead of time up to a rolling horizon. `after_completion`: one
    -- open instance at a time, the next made when it is completed.
    mode              text        NOT NULL DEFAULT 'fixed',
    -- Generation state: every occurrence before this instant has been made (NULL: none yet).
    generated_until   timestamptz,
    -- Instances made so far (what COUNT limits in after-completion mode).
    instances_made    integer     NOT NULL DEFAULT 0,
    last_generated_at timestamptz,
    -- A pattern deleted by its user: kept so completed instances still name their series, but
    -- never generated again and not listed.
    deleted_at        timestamptz,
    -- Optimistic concurrency, as on tasks.
    version           integer     NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recurrence_patterns_frequency_check
        CHECK (frequency IN ('daily', 'weekly', 'monthly', 'yearly', 'custom')),
    CONSTRAINT recurrence_patterns_interval_positive CHECK (interval > 0),
    CONSTRAINT recurrence_patterns_one_end CHECK (end_date IS NULL OR max_occurrences IS NULL),
    CONSTRAINT recurrence_patterns_mode_check CHECK (mode IN ('fixed', 'after_completion')),
    CONSTRAINT recurrence_patterns_version_positive CHECK (version > 0)
);

-- A user's patterns, newest first.
CREATE INDEX recurrence_patterns_user_idx ON recurrence_patterns (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- What the daily tick claims (`FOR UPDATE SKIP LOCKED`): live fixed patterns whose horizon has
-- fallen behind.
CREATE INDEX recurrence_patterns_due_idx ON recurrence_patterns (generated_until)
    WHERE deleted_at IS NULL AND mode = 'fixed';

-- The occurrence (an instant) a recurring instance stands for. It stays what it was made for even
-- when the user moves the instance's due date, so it is the key that tells generation an
-- instance exists already.
ALTER TABLE tasks ADD COLUMN recurrence_occurrence timestamptz;

-- Set when a user edited this one instance: regenerating the series never replaces it.
ALTER TABLE tasks ADD COLUMN is_exception boolean NOT NULL DEFAULT false;

-- Generation inserts with `ON CONFLICT ON CONSTRAINT tasks_recurrence_occurrence_key DO
-- NOTHING`: reruns and concurrent replicas never make an occurrence twice. NULLs are distinct,
-- so tasks outside any series are unaffected.
ALTER TABLE tasks ADD CONSTRAINT tasks_recurrence_occurrence_key
    UNIQUE (recurrence_pattern_id, recurrence_occurrence);

ALTER TABLE tasks ADD CONSTRAINT tasks_recurrence_pattern_fkey
    FOREIGN KEY (recurrence_pattern_id) REFERENCES recurrence_patterns (id) ON DELETE SET NULL;


-- Editing or deleting one instance goes through the task routes (`PUT|PATCH|DELETE
-- /api/tasks/{id}`), which know nothing of series. These triggers make what such an edit means
-- for its series hold whoever makes it, so it cannot be forgotten by one handler:
--   * an instance whose user-visible fields change becomes an exception, which regenerating the
--     series never deletes or replaces;
--   * an open instance that is deleted records its occurrence as an EXDATE of the pattern, so no
--     later pass makes it again.
-- Series-level changes (the whole series, this-and-following, deleting a series) remove
-- instances on purpose: the API marks its transaction with
-- `set_config('todo.series_change', 'on', true)` and the delete trigger stands aside.

CREATE FUNCTION tasks_mark_recurrence_exception() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.title, OLD.description, OLD.priority, OLD.due_date, OLD.reminder_time, OLD.tags)
       IS DISTINCT FROM (NEW.title, NEW.description, NEW.priority, NEW.due_date, NEW.reminder_time, NEW.tags)
    THEN
        NEW.is_exception := true;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER tasks_recurrence_exception
    BEFORE UPDATE ON tasks
    FOR EACH ROW
    WHEN (OLD.recurrence_occurrence IS NOT NULL)
    EXECUTE FUNCTION tasks_mark_recurrence_exception();

CREATE FUNCTION tasks_record_recurrence_exdate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('todo.series_change', true), '') <> 'on' THEN
        UPDATE recurrence_patterns p
           SET exdates = array_append(p.exdates,
                   to_char(OLD.recurrence_occurrence AT TIME ZONE p.timezone,
                           'YYYY-MM-DD"T"HH24:MI:SS')),
               updated_at = now()
         WHERE p.id = OLD.recurrence_pattern_id;
    END IF;
    RETURN OLD;
END
$$;

CREATE TRIGGER tasks_recurrence_exdate
    AFTER DELETE ON tasks
    FOR EACH ROW
    WHEN (OLD.recurrence_occurrence IS NOT NULL AND OLD.recurrence_pattern_id IS NOT NULL
          AND NOT OLD.is_completed)
    EXECUTE FUNCTION tasks_record_recurrence_exdate();
