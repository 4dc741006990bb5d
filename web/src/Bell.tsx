// The notification bell: an unread count kept fresh by polling the cheap unread-count route
// (paused while the tab is hidden), and the inbox it opens, where notifications are marked read
// and their reminders snoozed.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from './api';
import { formatInstant } from './time';
import type { Notification } from './types';

const POLL_MS = 3000;

const SNOOZES: [number, string][] = [
  [10, '10 min'],
  [60, '1 hour'],
  [1440, '1 day'],
];

export function Bell({ timeZone }: { timeZone: string }) {
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<Notification[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const button = useRef<HTMLButtonElement>(null);

  const refreshCount = useCallback(async () => {
    try {
      // The route answers 304 to the browser's revalidation while nothing changed, and fetch
      // then hands back the cached count: most polls cost no query result at all.
      const r = await api<{ unread_count: number }>('GET', '/api/notifications/unread-count');
      setUnread(r.unread_count);
    } catch {
      // A failed poll keeps the last count; the next one tries again.
    }
  }, []);

  useEffect(() => {
    void refreshCount();
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void refreshCount();
    }, POLL_MS);
    const onVisible = () => document.visibilityState === 'visible' && void refreshCount();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [refreshCount]);

  const loadInbox = useCallback(async () => {
    try {
      const r = await api<{ items: Notification[] }>('GET', '/api/notifications?limit=50');
      setItems(r.items);
    } catch (err) {
      setMessage(err instanceof ApiError ? err.message : 'Could not load notifications.');
    }
  }, []);

  useEffect(() => {
    if (open) void loadInbox();
  }, [open, loadInbox, unread]);

  // Opening the inbox moves focus into it, so keyboard and screen-reader users land there.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (open) heading.current?.focus();
  }, [open]);

  async function markRead(n: Notification) {
    try {
      await api('POST', `/api/notifications/${n.id}/read`);
      setItems((all) => all?.map((x) => (x.id === n.id ? { ...x, read_at: new Date().toISOString() } : x)) ?? null);
      void refreshCount();
    } catch (err) {
      setMessage(err instanceof ApiError ? err.message : 'Could not mark it read.');
    }
  }

  async function snooze(n: Notification, minutes: number) {
    if (!n.reminder_id) return;
    try {
      await api('POST', `/api/reminders/${n.reminder_id}/snooze`, { minutes });
      setMessage(`Snoozed for ${SNOOZES.find(([m]) => m === minutes)?.[1] ?? `${minutes} min`}.`);
      if (!n.read_at) await markRead(n);
    } catch (err) {
      setMessage(err instanceof ApiError ? (err.errors[0]?.message ?? err.message) : 'Could not snooze.');
    }
  }

  return (
    <div className="bell">
      <button
        ref={button}
        type="button"
        className="icon-button bell-button"
        aria-expanded={open}
        aria-controls="inbox"
        aria-label={`Notifications, ${unread} unread`}
        onClick={() => setOpen((o) => !o)}
      >
        <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22">
          <path
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"
            fill="currentColor"
          />
        </svg>
        {unread > 0 && (
          <span className="unread" data-testid="unread-count" aria-hidden="true">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && (
        <section
          id="inbox"
          className="inbox"
          aria-label="Notifications"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setOpen(false);
              button.current?.focus();
            }
          }}
        >
          <h2 ref={heading} tabIndex={-1}>
            Notifications
          </h2>
          {message && (
            <p className="banner" role="status">
              {message}
            </p>
          )}
          {items === null ? (
            <p>Loading…</p>
          ) : items.length === 0 ? (
            <p className="empty">Nothing yet.</p>
          ) : (
            <ul>
              {items.map((n) => (
                <li key={n.id} className={n.read_at ? 'read' : 'unread-item'} data-testid="notification">
                  <strong>{n.subject ?? 'Reminder'}</strong>
                  {n.data?.due_date && (
                    <p>
                      Due <time dateTime={n.data.due_date}>{formatInstant(n.data.due_date, timeZone)}</time>
                    </p>
                  )}
                  <time dateTime={n.created_at}>{formatInstant(n.created_at, timeZone)}</time>
                  <div className="inbox-actions">
                    {!n.read_at && (
                      <button type="button" onClick={() => void markRead(n)}>
                        Mark read
                      </button>
                    )}
                    {n.reminder_id &&
                      SNOOZES.map(([minutes, label]) => (
                        <button key={minutes} type="button" onClick={() => void snooze(n, minutes)} aria-label={`Snooze ${label}`}>
                          Snooze {label}
                        </button>
                      ))}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
