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
      const r = await api<{ items: AuditEvent[]; next_cursor: string | null }>(
        'GET',
        `/api/audit/events${query({ limit: 50, cursor: from })}`,
      );
      const page = r.items;
      setEvents((old) => (from ? [...old, ...page] : page));
      setCursor(r.next_cursor);
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
          const title = e.payload?.data?.title ?? e.payload?.data?.task?.title;
          return (
            <li key={e.id}>
              <code>{e.event_type}</code>
              <time dateTime={e.created_at}>{formatInstant(e.created_at, timeZone)}</time>
              {title && <span className="subject">{title}</span>}
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
