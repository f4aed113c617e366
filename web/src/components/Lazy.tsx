// Route-level code splitting without preact/compat: load a module, then render its default export.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { reportClientError } from '../api/client';
import { Spinner } from './ui';

type Loader = () => Promise<{ default: ComponentType<any> }>;
const cache = new Map<Loader, ComponentType<any>>();

export function Lazy({ load, props }: { load: Loader; props?: Record<string, unknown> }) {
  const [C, setC] = useState<ComponentType<any> | null>(() => cache.get(load) ?? null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (cache.has(load)) {
      setC(() => cache.get(load)!);
      return;
    }
    let live = true;
    setC(null);
    load().then(
      (m) => {
        cache.set(load, m.default);
        if (live) setC(() => m.default);
      },
      (e: unknown) => {
        reportClientError('chunk', String((e as Error)?.message ?? e));
        if (live) setFailed(true);
      },
    );
    return () => {
      live = false;
    };
  }, [load]);
  if (failed)
    return (
      <div class="page narrow center-text" role="alert">
        <h1>This page did not load</h1>
        <p class="muted">Your connection may have dropped, or Gavel was just updated.</p>
        <button class="btn-primary" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    );
  if (!C) return <Spinner label="Loading" />;
  return <C {...props} />;
}
