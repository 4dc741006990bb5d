// Settings: time zone (the profile), email and webhook delivery, and webhook secret rotation.
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { ApiError, api } from './api';
import { Field, FormErrors } from './Field';
import { allTimeZones } from './time';
import type { Channel, Settings, User } from './types';

export function SettingsScreen({ user, onUserChange }: { user: User; onUserChange: (u: User) => void }) {
  const zones = useMemo(allTimeZones, []);
  const [timezone, setTimezone] = useState(user.timezone);
  const [emailEnabled, setEmailEnabled] = useState(false);
  const [emailAddress, setEmailAddress] = useState('');
  const [webhookUrl, setWebhookUrl] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [channels, setChannels] = useState<Channel[]>(['in_app']);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The form appears once the stored values are in, so they never overwrite what is typed.
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    api<Settings>('GET', '/api/me/settings')
      .then((s) => {
        setEmailEnabled(s.email_enabled);
        setEmailAddress(s.email_address ?? '');
        setWebhookUrl(s.webhook_url ?? '');
        setChannels(s.default_channels);
      })
      .catch((err) => setLoadError(err instanceof ApiError ? err.message : 'Could not load your settings.'))
      .finally(() => setLoaded(true));
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      // The zone lives on the profile (tasks, series) and in the notification settings
      // (how deliveries write times); the UI keeps the two in step.
      if (timezone !== user.timezone) {
        const { user: updated } = await api<{ user: User }>('PATCH', '/api/auth/me', { timezone });
        onUserChange(updated);
      }
      const r = await api<Settings & { webhook_secret?: string }>('PUT', '/api/me/settings', {
        timezone,
        email_enabled: emailEnabled,
        email_address: emailAddress.trim() || null,
        webhook_url: webhookUrl.trim() || null,
        default_channels: channels,
      });
      // The first webhook URL comes with its signing secret, shown this once.
      if (r.webhook_secret) setSecret(r.webhook_secret);
      setSaved('Settings saved.');
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, null));
    } finally {
      setBusy(false);
    }
  }

  async function rotate() {
    setError(null);
    try {
      const r = await api<{ webhook_secret: string }>('POST', '/api/me/webhook-secret');
      setSecret(r.webhook_secret);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, null));
    }
  }

  return (
    <section aria-labelledby="settings-heading" className="settings">
      <h1 id="settings-heading">Settings</h1>
      {loadError && (
        <p className="banner error" role="alert">
          {loadError}
        </p>
      )}
      {!loaded ? (
        <p aria-busy="true">Loading…</p>
      ) : (
        <form onSubmit={submit} noValidate aria-busy={busy}>
          {error && (
            <FormErrors messages={error.otherMessages(['timezone', 'email_enabled', 'email_address', 'webhook_url', 'default_channels'])} />
          )}
          {saved && (
            <p className="banner ok" role="status">
              {saved}
            </p>
          )}
          <Field label="Time zone" error={error?.fieldMessage('timezone')} hint="Due dates, reminders and series use this zone.">
            {(p) => (
              <select {...p} value={timezone} onChange={(e) => setTimezone(e.target.value)}>
                {(zones.includes(timezone) ? zones : [timezone, ...zones]).map((z) => (
                  <option key={z}>{z}</option>
                ))}
              </select>
            )}
          </Field>
          <fieldset aria-describedby={error?.fieldMessage('default_channels') ? 'channels-error' : undefined}>
            <legend>Remind me by default by</legend>
            <div className="checks">
              {(
                [
                  ['in_app', 'In the app'],
                  ['email', 'Email'],
                  ['webhook', 'Webhook'],
                ] as [Channel, string][]
              ).map(([channel, label]) => (
                <label key={channel} className="check">
                  <input
                    type="checkbox"
                    checked={channels.includes(channel)}
                    onChange={(e) => setChannels((all) => (e.target.checked ? [...all, channel] : all.filter((c) => c !== channel)))}
                  />
                  {label}
                </label>
              ))}
            </div>
            {error?.fieldMessage('default_channels') && (
              <p id="channels-error" className="field-error" role="alert">
                {error.fieldMessage('default_channels')}
              </p>
            )}
          </fieldset>
          <fieldset>
            <legend>Email</legend>
            <label className="check">
              <input type="checkbox" checked={emailEnabled} onChange={(e) => setEmailEnabled(e.target.checked)} />
              Send reminders by email
            </label>
            <Field label="Email address" error={error?.fieldMessage('email_address')} hint={`Leave empty to use ${user.email}.`}>
              {(p) => <input {...p} type="email" value={emailAddress} onChange={(e) => setEmailAddress(e.target.value)} />}
            </Field>
          </fieldset>
          <fieldset>
            <legend>Webhook</legend>
            <Field label="Webhook URL" error={error?.fieldMessage('webhook_url')} hint="Reminders are POSTed here, signed with the secret.">
              {(p) => (
                <input
                  {...p}
                  type="url"
                  value={webhookUrl}
                  onChange={(e) => setWebhookUrl(e.target.value)}
                  placeholder="https://example.com/hooks/todo"
                />
              )}
            </Field>
            <button type="button" onClick={() => void rotate()}>
              Rotate webhook secret
            </button>
            {secret && (
              <p className="banner ok" role="status">
                New secret (shown once): <code>{secret}</code>
              </p>
            )}
          </fieldset>
          <button type="submit" className="primary" disabled={busy}>
            Save settings
          </button>
        </form>
      )}
    </section>
  );
}
