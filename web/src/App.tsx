// The app shell: who is signed in (restored from the session cookie on load), the header with
// navigation and the notification bell, and the current screen.
import { useCallback, useEffect, useState } from 'react';
import { api, setUnauthorizedHandler } from './api';
import { AuthScreen } from './Auth';
import { Activity } from './Activity';
import { Bell } from './Bell';
import { navigate, useRoute } from './router';
import { SettingsScreen } from './Settings';
import { TasksScreen } from './Tasks';
import type { User } from './types';

export function App() {
  const route = useRoute();
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    setUnauthorizedHandler(() => setUser(null));
    api<{ user: User }>('GET', '/api/auth/me')
      .then((r) => setUser(r.user))
      .catch(() => setUser(null));
  }, []);

  useEffect(() => {
    if (user === null && route !== 'login' && route !== 'register') navigate('login', true);
    if (user && (route === 'login' || route === 'register')) navigate('tasks', true);
  }, [user, route]);

  const logout = useCallback(async () => {
    try {
      await api('POST', '/api/auth/logout');
    } finally {
      setUser(null);
    }
  }, []);

  if (user === undefined) {
    return (
      <main className="loading" aria-busy="true">
        Loading…
      </main>
    );
  }

  if (user === null) {
    return <AuthScreen mode={route === 'register' ? 'register' : 'login'} onSignedIn={setUser} />;
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand" aria-hidden="true">
          ✓ Todo
        </span>
        <nav aria-label="Main">
          <NavLink route="tasks" current={route} label="Tasks" />
          <NavLink route="activity" current={route} label="Activity" />
          <NavLink route="settings" current={route} label="Settings" />
        </nav>
        <div className="header-end">
          <Bell timeZone={user.timezone} />
          <span className="who" title={user.email}>
            {user.name || user.email}
          </span>
          <button type="button" className="link-button" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {route === 'settings' ? (
          <SettingsScreen user={user} onUserChange={setUser} />
        ) : route === 'activity' ? (
          <Activity timeZone={user.timezone} />
        ) : (
          <TasksScreen user={user} />
        )}
      </main>
    </>
  );
}

function NavLink({ route, current, label }: { route: 'tasks' | 'settings' | 'activity'; current: string; label: string }) {
  const href = route === 'tasks' ? '/' : `/${route}`;
  return (
    <a
      href={href}
      aria-current={current === route ? 'page' : undefined}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(route);
      }}
    >
      {label}
    </a>
  );
}
