// Entry: styles, global error reporting, router, render.
import { render } from 'preact';
import './styles/tokens.css';
import './styles/base.css';
import './styles/app.css';
import { api, isSignedIn, reportClientError, setUser, type User } from './api/client';
import { App } from './App';
import { startRouter } from './router';

addEventListener('error', (e) => {
  reportClientError('uncaught', String(e.message || 'error'));
});
addEventListener('unhandledrejection', (e) => {
  const r = (e as PromiseRejectionEvent).reason;
  // API failures are reported where they happen; report the rest.
  if (r && r.name === 'ApiError') return;
  reportClientError('unhandledrejection', String(r?.message ?? r));
});

startRouter();
// Check the stored session once per page load: refreshes the token if needed (or sends the user
// to sign-in when it cannot be renewed) and picks up a name changed on another device.
if (isSignedIn() && !/^\/(signin|auth\/)/.test(location.pathname)) api<User>('GET', '/api/me').then(setUser, () => undefined);
render(<App />, document.getElementById('app')!);
