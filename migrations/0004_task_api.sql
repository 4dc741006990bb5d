-- 0004: what the task API adds: user roles, idempotency keys, and the indexes its list
-- queries use.

-- Who may use operator-only routes (the audit log of every user, the dispatcher's dead
-- letters). Nobody becomes an admin through the API: an operator runs
-- `UPDATE users SET role = 'admin' WHERE email = '...'` (see README).
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'user';

ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'));

-- `POST /api/tasks` with an `Idempotency-Key` header: the first request's response is kept here,
-- in the same transaction as the task it created, so a retry gets that response back and
-- creates nothing. Keys are per user (two users may pick the same key) and are kept for 24 hours:
-- a request whose key is older than that is treated as new (the API ignores expired rows and
-- replaces them; nothing needs to sweep them for correctness).
CREATE TABLE idempotency_keys (
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The client's `Idempotency-Key` header, 1 to 255 visible ASCII characters.
    key             text        NOT NULL,
    -- SHA-256 (hex) of the method, path and body of the first request: the same key with another
    -- request is refused (422) rather than answered with a response to something else.
    fingerprint     text        NOT NULL,
    -- The first response, replayed as it was.
    response_status integer     NOT NULL,
    response_body   jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255)
);

-- Sorting a user's list by priority or title, with the id tie-breaker of the keyset cursor.
-- Priority sorts by its rank (low 0, medium 1, high 2), the expression the API's SQL uses.
CREATE INDEX tasks_user_priority_idx ON tasks (
    user_id, (CASE priority WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END), id
);

CREATE INDEX tasks_user_title_idx ON tasks (user_id, title COLLATE "C", id);
