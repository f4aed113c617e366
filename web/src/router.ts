// A small client router: the current URL as a signal, pattern matching with :params, and
// interception of same-origin link clicks so <a href> works without a full reload.
import { signal } from '@preact/signals';

export interface Loc {
  path: string;
  query: URLSearchParams;
}

function read(): Loc {
  if (typeof location === 'undefined') return { path: '/', query: new URLSearchParams() };
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export const loc = signal<Loc>(read());

export function navigate(to: string, opts?: { replace?: boolean }): void {
  if (opts?.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  loc.value = read();
  if (!opts?.replace) window.scrollTo(0, 0);
}

/** Matches `/leagues/:id` against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.replace(/\/+$/, '').split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      try {
        out[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) return null;
  }
  return out;
}

export function startRouter(): void {
  addEventListener('popstate', () => {
    loc.value = read();
  });
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download') || a.getAttribute('rel') === 'external') return;
    const href = a.getAttribute('href');
    if (!href || href.startsWith('#')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    e.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
