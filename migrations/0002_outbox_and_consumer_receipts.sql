-- 0002: the event plumbing every component shares.
--
-- `outbox` makes "change the data and publish the event" one transaction (no dual write):
-- a writer inserts the CloudEvent here in the same transaction as its own rows, and the
-- dispatcher publishes it after commit. `consumer_receipts` makes redelivery harmless: a
-- consumer records the event it handled in the same transaction as its own writes.

CREATE TABLE outbox (
    -- The CloudEvent `id` (a UUIDv7 the writer generates, so ids sort by creation time).
    -- No default: PostgreSQL 15 has no UUIDv7 generator, and the id must match the payload's.
    id              uuid        PRIMARY KEY,
    -- `{domain}.{entity}.{event}`, e.g. `tasks.task.created`; the channel or topic it goes to.
    topic           text        NOT NULL,
    -- The CloudEvent `subject`, e.g. `task/<uuid>`.
    subject         text        NOT NULL,
    -- The user the event belongs to, which partitions the stream. Deliberately no foreign key:
    -- an account's deletion must not delete its undelivered events.
    user_id         uuid,
    -- The whole CloudEvent 1.0 JSON envelope exactly as it will be published.
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Delivery state, kept on the row so retries are data, not sleeping code:
    -- publish attempts made so far,
    attempts        integer     NOT NULL DEFAULT 0,
    -- the earliest time the dispatcher may try (again); backoff moves it forward,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- when a publish succeeded (NULL while pending),
    delivered_at    timestamptz,
    -- and the last publish error, for operators.
    last_error      text,
    CONSTRAINT outbox_topic_format CHECK (topic ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2}$'),
    CONSTRAINT outbox_payload_id_matches CHECK (payload ->> 'id' = id::text),
    CONSTRAINT outbox_payload_type_matches CHECK (payload ->> 'type' = 'com.todoapp.' || topic),
    CONSTRAINT outbox_attempts_nonnegative CHECK (attempts >= 0)
);

-- What the dispatcher's tick claims (`FOR UPDATE SKIP LOCKED`): pending rows that are due.
-- Partial, so delivered history does not slow the claim down.
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;

CREATE TABLE consumer_receipts (
    -- The consuming component, e.g. `audit` or `reminders`.
    consumer     text        NOT NULL,
    -- The CloudEvent `id` it processed.
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
