// A few client-side routes on the History API; the web component answers every non-API path
// with the app shell, so a reload or a shared link lands on the same screen.
import { useEffect, useState } from 'react';

export type Route = 'tasks' | 'settings' | 'activity' | 'login' | 'register';

const PATHS: Record<Route, string> = {
  tasks: '/',
  settings: '/settings',
  activity: '/activity',
  login: '/login',
  register: '/register',
};

function current(): Route {
  const path = window.location.pathname.replace(/\/+$/, '') || '/';
  const hit = (Object.entries(PATHS) as [Route, string][]).find(([, p]) => p === path);
  return hit ? hit[0] : 'tasks';
}

export function navigate(route: Route, replace = false): void {
  const path = PATHS[route];
  if (window.location.pathname !== path) {
    if (replace) window.history.replaceState(null, '', path);
    else window.history.pushState(null, '', path);
  }
  window.dispatchEvent(new Event('app:navigate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(current);
  useEffect(() => {
    const update = () => setRoute(current());
    window.addEventListener('popstate', update);
    window.addEventListener('app:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('app:navigate', update);
    };
  }, []);
  return route;
}
