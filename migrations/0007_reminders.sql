-- 0007: reminders, owned by the `reminders` component.
--
-- A task's reminder list (what the client asked for) is stored with the task, by `api`, and
-- carried in the task events; the `reminders` component plans rows of `reminders` from those
-- events (domain::reminder::plan) and a tick fires the due ones. See docs/architecture.md,
-- "Reminders".

-- The task's reminder specs as the client sent them, normalised by the API: a JSON array of
-- `{"at": "<RFC 3339>"}` or `{"offset_minutes": n}` objects, each with optional `channels`.
-- `reminder_time` stays the seed's single absolute reminder, planned beside these.
ALTER TABLE tasks ADD COLUMN reminders jsonb NOT NULL DEFAULT '[]';

ALTER TABLE tasks ADD CONSTRAINT tasks_reminders_is_array CHECK (jsonb_typeof(reminders) = 'array');

CREATE TABLE reminders (
    id                    uuid        PRIMARY KEY,
    -- No foreign key to tasks: a deleted task's reminders are cancelled by the consumer of
    -- `tasks.task.deleted` (which publishes `reminders.reminder.cancelled` for each), so they must
    -- outlive the task row for as long as that takes.
    task_id               uuid        NOT NULL,
    user_id               uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- When it fires. Snoozing moves it (and puts a fired reminder back to pending).
    scheduled_time        timestamptz NOT NULL,
    -- Set by the first snooze: the time the plan gave the reminder. Re-planning compares plans
    -- with this (when set), so an edit that leaves the reminder's plan alone (a new title) keeps
    -- the snooze; a moved due date re-times the reminder and clears it.
    snoozed_from          timestamptz,
    -- pending: waiting for the tick; fired: reminders.reminder.fired published;
    -- cancelled: will not fire; skipped: its time had passed when it was planned.
    status                text        NOT NULL DEFAULT 'pending',
    -- ["in_app", "email", "webhook"]: the user's defaults already applied.
    notification_channels jsonb       NOT NULL,
    -- Where the row came from: `task` (planned from the task's reminder list or reminder_time,
    -- re-planned whenever those or the due date change) or `api` (added with
    -- POST /api/tasks/{id}/reminders, kept across re-plans).
    origin                text        NOT NULL DEFAULT 'task',
    -- The spec it was planned from (`{"offset_minutes": 15}`), NULL for reminder_time. A relative
    -- spec is re-timed when the due date moves.
    spec                  jsonb,
    -- The task version whose event planned it: an older, redelivered or reordered event
    -- never re-plans over a newer one.
    task_version          integer     NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    fired_at              timestamptz,
    cancelled_at          timestamptz,
    CONSTRAINT reminders_status_check CHECK (status IN ('pending', 'fired', 'cancelled', 'skipped')),
    CONSTRAINT reminders_origin_check CHECK (origin IN ('task', 'api')),
    CONSTRAINT reminders_channels_is_array CHECK (jsonb_typeof(notification_channels) = 'array'),
    CONSTRAINT reminders_fired_at_matches CHECK ((status = 'fired') = (fired_at IS NOT NULL))
);

-- What the tick claims (`FOR UPDATE SKIP LOCKED`, oldest first): pending rows that are due.
-- Partial, so fired history does not slow the claim down as it grows.
CREATE INDEX reminders_due_idx ON reminders (scheduled_time) WHERE status = 'pending';

CREATE INDEX reminders_task_idx ON reminders (task_id, scheduled_time);

CREATE INDEX reminders_user_idx ON reminders (user_id);
