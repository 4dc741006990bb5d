// The user's own audit events, newest first.
import { useEffect, useState } from 'react';
import { ApiError, api, query } from './api';
import { formatInstant } from './time';
import type { AuditEvent } from './types';

export function Activity({ timeZone }: { timeZone: string }) {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  async function load(from: string | null) {
    setLoading(true);
    try {
      const r = await api<{ items?: AuditEvent[]; events?: AuditEvent[]; next_cursor?: string | null }>(
        'GET',
        `/api/audit/events${query({ limit: 50, cursor: from })}`,
      );
      const page = r.items ?? r.events ?? [];
      setEvents((old) => (from ? [...old, ...page] : page));
      setCursor(r.next_cursor ?? null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not load activity.');
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    void load(null);
  }, []);

  return (
    <section aria-labelledby="activity-heading">
      <h1 id="activity-heading">Activity</h1>
      {error && (
        <p className="banner error" role="alert">
          {error}
        </p>
      )}
      <ol className="activity" aria-busy={loading}>
        {events.map((e) => {
          const at = e.created_at ?? e.time;
          return (
            <li key={e.id}>
              <code>{e.event_type}</code>
              {at && <time dateTime={at}>{formatInstant(at, timeZone)}</time>}
              {e.subject && <span className="subject">{e.subject}</span>}
            </li>
          );
        })}
      </ol>
      {!loading && events.length === 0 && !error && <p className="empty">No activity yet.</p>}
      {cursor && (
        <button type="button" className="more" onClick={() => void load(cursor)} disabled={loading}>
          Load more
        </button>
      )}
    </section>
  );
}
