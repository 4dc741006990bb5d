// Register and log in. A failed attempt keeps what was typed and shows the API's message next
// to the field it names.
import { type FormEvent, useState } from 'react';
import { ApiError, api } from './api';
import { Field, FormErrors } from './Field';
import { navigate } from './router';
import { browserTimeZone } from './time';
import type { User } from './types';

const FIELDS = ['email', 'password', 'name', 'timezone'];

export function AuthScreen({ mode, onSignedIn }: { mode: 'login' | 'register'; onSignedIn: (user: User) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const registering = mode === 'register';

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (registering) {
        const body: Record<string, string> = { email, password, timezone: browserTimeZone() };
        if (name.trim()) body.name = name;
        const { user } = await api<{ user: User }>('POST', '/api/auth/register', body);
        onSignedIn(user);
      } else {
        const { user } = await api<{ user: User }>('POST', '/api/auth/login', { email, password });
        onSignedIn(user);
      }
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, null));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="auth">
      <h1>{registering ? 'Create your account' : 'Log in'}</h1>
      <form onSubmit={submit} noValidate aria-busy={busy}>
        {error && <FormErrors messages={error.otherMessages(FIELDS)} />}
        <Field label="Email" error={error?.fieldMessage('email')}>
          {(p) => <input {...p} type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required />}
        </Field>
        {registering && (
          <Field label="Name (optional)" error={error?.fieldMessage('name')}>
            {(p) => <input {...p} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
        )}
        <Field label="Password" error={error?.fieldMessage('password')} hint={registering ? 'At least 8 characters.' : undefined}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete={registering ? 'new-password' : 'current-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {registering ? 'Create account' : 'Log in'}
        </button>
      </form>
      <p>
        {registering ? 'Already have an account? ' : 'New here? '}
        <a
          href={registering ? '/login' : '/register'}
          onClick={(e) => {
            e.preventDefault();
            setError(null);
            navigate(registering ? 'login' : 'register');
          }}
        >
          {registering ? 'Log in' : 'Create an account'}
        </a>
      </p>
    </main>
  );
}
