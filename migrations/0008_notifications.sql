-- 0008: notifications and notification preferences, owned by the `notifier` component.
--
-- One `notifications` row per (fired reminder, channel): the in-app notification itself, or an
-- email or webhook delivery with its retry state. Its unique key is what makes a redelivered
-- `reminders.reminder.fired` harmless even before the consumer receipt is checked.

CREATE TABLE notification_preferences (
    user_id            uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- IANA zone name for due times in emails; NULL = the account's `users.timezone`.
    timezone           text,
    -- Where emails go; NULL = the account's email.
    email_address      text,
    email_enabled      boolean     NOT NULL DEFAULT true,
    webhook_url        text,
    -- `whsec_<base64>`: the Standard Webhooks signing secret, shown once when rotated.
    webhook_secret     text,
    -- Channels of reminders that name none.
    default_channels   jsonb       NOT NULL DEFAULT '["in_app"]',
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_preferences_channels_is_array
        CHECK (jsonb_typeof(default_channels) = 'array')
);

CREATE TABLE notifications (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The reminder that fired. No foreign key: the reminders table belongs to another component.
    reminder_id     uuid        NOT NULL,
    task_id         uuid        NOT NULL,
    -- The `reminders.reminder.fired` event that caused it.
    event_id        uuid        NOT NULL,
    channel         text        NOT NULL,
    -- The email address or webhook URL at the time; the user's id for in-app.
    recipient       text        NOT NULL,
    subject         text,
    body            text,
    -- The whole fired event, which a webhook delivery posts (and the in-app list shows).
    payload         jsonb       NOT NULL,
    -- in_app rows are `sent` at once; email and webhook rows start `pending`.
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    -- In-app only: when the user read it.
    read_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notifications_channel_check CHECK (channel IN ('email', 'in_app', 'webhook')),
    CONSTRAINT notifications_status_check CHECK (status IN ('pending', 'sent', 'failed')),
    CONSTRAINT notifications_attempts_nonnegative CHECK (attempts >= 0),
    -- Exactly one effect per reminder firing and channel.
    CONSTRAINT notifications_reminder_channel_key UNIQUE (event_id, channel)
);

-- What the delivery tick claims: pending deliveries that are due.
CREATE INDEX notifications_pending_idx ON notifications (next_attempt_at) WHERE status = 'pending';

-- A user's in-app list, newest first, with the id tie-breaker of the keyset cursor.
CREATE INDEX notifications_in_app_idx ON notifications (user_id, created_at DESC, id DESC)
    WHERE channel = 'in_app';

-- The unread count.
CREATE INDEX notifications_unread_idx ON notifications (user_id)
    WHERE channel = 'in_app' AND read_at IS NULL;

-- The delivery history, newest first.
CREATE INDEX notifications_user_created_idx ON notifications (user_id, created_at DESC, id DESC);
