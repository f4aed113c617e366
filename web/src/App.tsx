// The app shell: header and navigation, the routes (each page lazy-loaded), sign-in guard.
import type { ComponentType } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { session } from './api/client';
import { ErrorBoundary } from './components/ErrorBoundary';
import { Lazy } from './components/Lazy';
import { loc, match, navigate } from './router';

type Loader = () => Promise<{ default: ComponentType<any> }>;

interface Route {
  pattern: string;
  load: Loader;
  auth: boolean;
  /** Full-screen pages (the room) draw their own chrome. */
  bare?: boolean;
  title?: string;
}

// Each loader is a stable function so the lazy cache works.
const ROUTES: Route[] = [
  { pattern: '/', load: () => import('./pages/Leagues'), auth: true, title: 'Your leagues' },
  { pattern: '/signin', load: () => import('./pages/SignIn'), auth: false, title: 'Sign in' },
  { pattern: '/auth/verify', load: () => import('./pages/SignIn'), auth: false, title: 'Signing in' },
  { pattern: '/leagues/new', load: () => import('./pages/NewLeague'), auth: true, title: 'New league' },
  { pattern: '/leagues/:id/edit', load: () => import('./pages/NewLeague'), auth: true, title: 'League settings' },
  { pattern: '/leagues/:id/season', load: () => import('./pages/season/SeasonPage'), auth: true, title: 'Season' },
  { pattern: '/leagues/:id', load: () => import('./pages/League'), auth: true, title: 'League' },
  { pattern: '/invite/:code', load: () => import('./pages/Invite'), auth: true, title: 'Join a league' },
  { pattern: '/watch/:code', load: () => import('./pages/Watch'), auth: true, title: 'Watch an auction' },
  { pattern: '/profile', load: () => import('./pages/Profile'), auth: true, title: 'Profile' },
  { pattern: '/help', load: () => import('./pages/Help'), auth: false, title: 'How Gavel works' },
  { pattern: '/auctions/:auctionId', load: () => import('./room/RoomPage'), auth: true, bare: true, title: 'Auction' },
  { pattern: '/auctions/:auctionId/tv', load: () => import('./room/BigScreenPage'), auth: true, bare: true, title: 'Big screen' },
  { pattern: '/auctions/:auctionId/results', load: () => import('./room/ResultsPage'), auth: true, title: 'Results' },
];
const NOT_FOUND: Loader = () => import('./pages/NotFound');

function Header() {
  const user = session.value.user;
  const path = loc.value.path;
  const cur = (p: string) => (path === p ? 'page' : undefined);
  return (
    <header class="topbar">
      <div class="topbar-in">
        <a href={user ? '/' : '/signin'} class="brand" aria-label="Gavel home">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="var(--accent)" />
            <path d="M9 21l7-7m-3-3l6 6m-1-9l6 6m-8 8h10" stroke="var(--accent-text)" stroke-width="2.4" stroke-linecap="round" fill="none" />
          </svg>
          <span>Gavel</span>
        </a>
        <nav aria-label="Main" class="nav">
          {user && (
            <a href="/" aria-current={cur('/')}>
              Leagues
            </a>
          )}
          <a href="/help" aria-current={cur('/help')}>
            Help
          </a>
          {user ? (
            <a href="/profile" aria-current={cur('/profile')} class="nav-user" title={user.name}>
              <span class="avatar" aria-hidden="true">
                {(user.name || '?').slice(0, 1).toUpperCase()}
              </span>
              <span class="visually-hidden">Profile</span>
            </a>
          ) : (
            <a href="/signin" aria-current={cur('/signin')}>
              Sign in
            </a>
          )}
        </nav>
      </div>
    </header>
  );
}

function RequireSignIn() {
  const { path, query } = loc.value;
  useEffect(() => {
    const here = path + (query.toString() ? '?' + query.toString() : '');
    navigate('/signin?next=' + encodeURIComponent(here), { replace: true });
  }, [path]);
  return null;
}

export function App() {
  const { path } = loc.value;
  const user = session.value.user;
  let route: Route | null = null;
  let params: Record<string, string> = {};
  for (const r of ROUTES) {
    const m = match(r.pattern, path);
    if (m) {
      route = r;
      params = m;
      break;
    }
  }
  useEffect(() => {
    document.title = route?.title ? `${route.title} · Gavel` : 'Gavel';
  }, [route]);
  // After a client-side navigation, move focus to the content so screen readers announce it.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const main = document.getElementById('main');
    if (main && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  }, [path]);

  let body;
  if (!route) body = <Lazy load={NOT_FOUND} />;
  else if (route.auth && !user) body = <RequireSignIn />;
  else body = <Lazy key={route.pattern} load={route.load} props={params} />;

  if (route?.bare)
    return (
      <ErrorBoundary resetKey={path}>
        <div id="main" tabIndex={-1}>
          {body}
        </div>
      </ErrorBoundary>
    );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <ErrorBoundary resetKey={path}>
        <main id="main" tabIndex={-1}>
          {body}
        </main>
      </ErrorBoundary>
    </>
  );
}
