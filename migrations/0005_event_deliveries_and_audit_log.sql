-- 0005: the event backbone: which consumer still owes a receipt for which event (redelivery and
-- dead letters, owned by `dispatcher`), and the audit log (`events`, owned by `audit`).
--
-- How delivery works (docs/architecture.md, "Dispatch and redelivery"): the dispatcher publishes
-- an outbox row and, in the same transaction that marks it delivered, adds one `event_deliveries`
-- row per consumer that the topic expects (`domain::event::Consumer`). A consumer's receipt in
-- `consumer_receipts` settles its row. A row that is due and still has no receipt is published
-- again with backoff; after the maximum number of attempts it becomes a dead letter
-- (`dead_at`), listed and retried by the admin routes.

CREATE TABLE event_deliveries (
    -- The CloudEvent id (the outbox row's id).
    event_id      uuid        NOT NULL,
    -- The consumer that must record a receipt, e.g. `audit`.
    consumer      text        NOT NULL,
    -- Publications of this event counted against this consumer, including the first.
    attempts      integer     NOT NULL DEFAULT 1,
    -- When to look for the receipt (and publish again if there is none).
    next_check_at timestamptz NOT NULL,
    -- Set when the attempts ran out: a dead letter, until an admin retries it.
    dead_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, consumer),
    CONSTRAINT event_deliveries_attempts_positive CHECK (attempts >= 0)
);

-- What the redelivery tick claims: live rows that are due. Partial, so dead letters stay out.
CREATE INDEX event_deliveries_due_idx ON event_deliveries (next_check_at) WHERE dead_at IS NULL;

-- The audit log: every event, once, as the seed plan's `events` table. `id` is the CloudEvent
-- id, so storing an event twice is impossible even without the consumer receipt.
CREATE TABLE events (
    id           uuid        PRIMARY KEY,
    -- The topic, e.g. `tasks.task.created` (the seed's `event_type`).
    event_type   text        NOT NULL,
    -- The id of the thing the event is about (the uuid in its `subject`).
    aggregate_id uuid        NOT NULL,
    -- The owner; kept NULL (not deleted) when the account goes, so the log outlives it.
    user_id      uuid        REFERENCES users (id) ON DELETE SET NULL,
    -- The whole CloudEvent as received.
    payload      jsonb       NOT NULL,
    -- How it arrived: `{"transport": "redis"|"dapr", "received_at": ...}`.
    metadata     jsonb,
    -- The event's own `time` (when the change happened), which retention and the
    -- `start_date`/`end_date` filters use.
    created_at   timestamptz NOT NULL,
    -- The payload's `version` when it has one (task events), else 1.
    version      integer     NOT NULL DEFAULT 1
);

CREATE INDEX events_type_idx ON events (event_type);
CREATE INDEX events_aggregate_idx ON events (aggregate_id);
-- A user's log, newest first, with the id tie-breaker of the keyset cursor.
CREATE INDEX events_user_created_idx ON events (user_id, created_at DESC, id DESC);
CREATE INDEX events_created_idx ON events (created_at DESC, id DESC);

-- The replay and metrics queries select outbox rows by creation time.
CREATE INDEX outbox_created_idx ON outbox (created_at);
