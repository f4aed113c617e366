// Small shared UI pieces: spinner, notices, form fields, badges, copy/share, confirmation dialog.
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client';

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div class="spinner-wrap" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span class="muted">{label}…</span>
    </div>
  );
}

/** The human sentence for an error; never a code, JSON or a stack. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return 'Something went wrong. Please try again.';
}

export function Notice({ kind = 'error', children }: { kind?: 'error' | 'info' | 'ok' | 'warn'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Field(props: {
  id: string;
  label: string;
  hint?: ComponentChildren;
  error?: string | null;
  children: JSX.Element;
}) {
  return (
    <div class={'field' + (props.error ? ' field-error' : '')}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.error ? (
        <p class="field-msg error-text" id={props.id + '-err'}>
          {props.error}
        </p>
      ) : props.hint ? (
        <p class="field-msg muted" id={props.id + '-hint'}>
          {props.hint}
        </p>
      ) : null}
    </div>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'live' | 'lead' | 'warn' | 'accent'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function CopyButton({ text, label = 'Copy link' }: { text: string; label?: string }) {
  const [done, setDone] = useState<null | 'ok' | 'fail'>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('ok');
    } catch {
      setDone('fail');
    }
    setTimeout(() => setDone(null), 2000);
  };
  return (
    <button type="button" onClick={copy} aria-live="polite">
      {done === 'ok' ? 'Copied' : done === 'fail' ? 'Select and copy' : label}
    </button>
  );
}

export function ShareButton({ url, title, text }: { url: string; title: string; text: string }) {
  if (typeof navigator === 'undefined' || !('share' in navigator)) return null;
  return (
    <button
      type="button"
      onClick={() => {
        navigator.share({ url, title, text }).catch(() => undefined);
      }}
    >
      Share…
    </button>
  );
}

/** A modal confirmation for actions that cannot be taken back. */
/** A ref for a <dialog> that is shown modal while `open` and closed when it turns false. */
export function useModalDialog(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal?.();
    if (!open && d.open) d.close();
  }, [open]);
  return ref;
}

/** The whole page when what it shows no longer exists for the user (deleted, or removed). */
export function GonePage({ title, why }: { title: string; why: string }) {
  return (
    <div class="page narrow center-text">
      <h1>{title}</h1>
      <p class="muted">{why}</p>
      <a class="btn" href="/">
        Back to your leagues
      </a>
    </div>
  );
}

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  body: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useModalDialog(props.open);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="dlg-title"
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      {props.open && (
        <div class="dialog-body">
          <h2 id="dlg-title">{props.title}</h2>
          <div class="dialog-text">{props.body}</div>
          {props.error && <Notice>{props.error}</Notice>}
          <div class="row end">
            <button type="button" onClick={props.onCancel} disabled={props.busy}>
              Cancel
            </button>
            <button
              type="button"
              class={props.danger ? 'btn-danger-solid' : 'btn-primary'}
              onClick={props.onConfirm}
              disabled={props.busy}
            >
              {props.busy ? 'Working…' : props.confirmLabel}
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}

/** Loads data for a page: { data, error, loading, reload }. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    fn().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1), set: (data: T) => setState({ data, error: null, loading: false }) };
}

export function LoadError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const notFound = error instanceof ApiError && (error.status === 404 || error.status === 403);
  return (
    <div class="page narrow center-text">
      <h1>{notFound ? 'Not found' : 'This did not load'}</h1>
      <p class="muted">
        {notFound ? 'It may have been deleted, or you are not a member. Check the link you followed.' : errorText(error)}
      </p>
      <div class="row center">
        {!notFound && onRetry && (
          <button class="btn-primary" onClick={onRetry}>
            Try again
          </button>
        )}
        <a class="btn" href="/">
          Back to your leagues
        </a>
      </div>
    </div>
  );
}
