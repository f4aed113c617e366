// Sign-in: e-mail → "check your mail" with a code field (for phones whose mail app opens links
// elsewhere); in --dev the link itself is shown. Also the magic-link landing (/signin?token= and
// /auth/verify?token=), which signs in and returns to where the user was going.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, isSignedIn, requestMagicLink, verifySignIn, type MagicLinkAnswer } from '../api/client';
import { Field, Notice, Spinner } from '../components/ui';
import { loc, navigate } from '../router';

const NEXT_KEY = 'gavel.next';

function safeNext(n: string | null): string | null {
  if (!n || !n.startsWith('/') || n.startsWith('//') || n.startsWith('/signin') || n.startsWith('/auth/')) return null;
  return n;
}

// `next` is kept in sessionStorage (this tab) and, for the mail link that opens a new tab, in
// localStorage with a time stamp (30 minutes).
function rememberNext(n: string | null) {
  const s = safeNext(n);
  if (!s) return;
  try {
    sessionStorage.setItem(NEXT_KEY, s);
    localStorage.setItem(NEXT_KEY, JSON.stringify({ path: s, at: Date.now() }));
  } catch {
    /* ignore */
  }
}

function takeNext(): string {
  let n: string | null = null;
  try {
    n = safeNext(sessionStorage.getItem(NEXT_KEY));
    const shared = JSON.parse(localStorage.getItem(NEXT_KEY) || 'null') as { path: string; at: number } | null;
    if (!n && shared && Date.now() - shared.at < 30 * 60_000) n = safeNext(shared.path);
    sessionStorage.removeItem(NEXT_KEY);
    localStorage.removeItem(NEXT_KEY);
  } catch {
    /* ignore */
  }
  return n ?? '/';
}

function verifyError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'invalid_token') return 'That sign-in link or code is not valid any more: it may have expired or been used already. Ask for a new one below.';
    if (e.code === 'rate_limited') return 'Too many attempts for this e-mail. Wait a few minutes, then ask for a new link.';
    return e.message;
  }
  return 'Something went wrong. Please try again.';
}

/** The dev link on this page's own origin (the server may print another host). */
function localLink(devLink: string): string {
  try {
    const u = new URL(devLink);
    return u.pathname + u.search;
  } catch {
    return devLink;
  }
}

function Landing({ email, token }: { email: string; token: string }) {
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    verifySignIn({ email, token }).then(
      () => navigate(takeNext(), { replace: true }),
      (e) => setError(verifyError(e)),
    );
  }, [email, token]);
  if (!error) return <Spinner label="Signing you in" />;
  return (
    <div class="auth-wrap">
      <div class="card auth-card">
        <h1>This link did not work</h1>
        <Notice>{error}</Notice>
        <a class="btn btn-primary btn-block" href="/signin">
          Get a new sign-in link
        </a>
      </div>
    </div>
  );
}

export default function SignIn() {
  const q = loc.value.query;
  const token = q.get('token');
  const emailParam = q.get('email') ?? '';
  const next = q.get('next');
  useEffect(() => rememberNext(next), [next]);
  useEffect(() => {
    if (!token && isSignedIn()) navigate(safeNext(next) ?? takeNext(), { replace: true });
  }, []);

  const [email, setEmail] = useState(emailParam);
  const [sent, setSent] = useState<MagicLinkAnswer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const codeRef = useRef<HTMLInputElement>(null);

  if (token && emailParam) return <Landing email={emailParam} token={token} />;

  const send = async (e: Event) => {
    e.preventDefault();
    const v = email.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) {
      setError('Enter your e-mail address, like sam@example.com.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setSent(await requestMagicLink(v));
      setTimeout(() => codeRef.current?.focus(), 0);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Something went wrong. Please try again.');
    } finally {
      setBusy(false);
    }
  };

  const submitCode = async (e: Event) => {
    e.preventDefault();
    const c = code.replace(/[\s-]/g, '');
    if (c.length < 6) {
      setCodeError('Type the code from the e-mail (8 letters and digits).');
      return;
    }
    setBusy(true);
    setCodeError(null);
    try {
      await verifySignIn({ email: email.trim(), code: c });
      navigate(takeNext(), { replace: true });
    } catch (err) {
      setCodeError(
        err instanceof ApiError && err.code === 'invalid_token'
          ? 'That code is not right, or it has expired. Check it, or ask for a new one.'
          : err instanceof ApiError && err.code === 'invalid_request'
            ? 'Sign-in codes do not work on this server yet. Open the link from the mail instead.'
            : verifyError(err),
      );
    } finally {
      setBusy(false);
    }
  };

  if (sent)
    return (
      <div class="auth-wrap">
        <div class="card auth-card">
          <h1>Check your mail</h1>
          <p>
            We sent a sign-in link and a code to <strong>{email.trim()}</strong>. It works for {Math.round((sent.expiresInS || 900) / 60)} minutes.
          </p>
          {sent.devLink && (
            <Notice kind="warn">
              <p>
                <strong>Development mode:</strong> no mail is sent. Use the link here.
              </p>
              <a class="btn btn-primary btn-block" href={localLink(sent.devLink)}>
                Open the sign-in link
              </a>
              {sent.devCode && (
                <p class="small" style="margin-top:8px">
                  Or type the code <strong class="tabular">{sent.devCode}</strong>
                </p>
              )}
            </Notice>
          )}
          <div class="divider">opened the mail on another device?</div>
          <form onSubmit={submitCode} noValidate>
            <Field id="code" label="Sign-in code" error={codeError} hint="Type it here to sign in on this device.">
              <input
                id="code"
                ref={codeRef}
                class="code-input"
                value={code}
                onInput={(e) => setCode((e.target as HTMLInputElement).value)}
                autocomplete="one-time-code"
                autocapitalize="characters"
                spellcheck={false}
                maxLength={12}
                aria-invalid={codeError ? 'true' : undefined}
                aria-describedby={codeError ? 'code-err' : 'code-hint'}
              />
            </Field>
            <button class="btn-primary btn-block" disabled={busy}>
              {busy ? 'Checking…' : 'Sign in with code'}
            </button>
          </form>
          <p class="small muted" style="margin-top:16px">
            Wrong address or nothing arrived?{' '}
            <button
              type="button"
              class="btn-ghost small"
              onClick={() => {
                setSent(null);
                setCode('');
                setCodeError(null);
              }}
            >
              Start again
            </button>
          </p>
        </div>
      </div>
    );

  return (
    <div class="auth-wrap">
      <div class="auth-card">
        <div class="auth-intro">
          <img src="/icon.svg" alt="" width="56" height="56" class="hero-mark" />
          <p class="auth-tagline">Live fantasy auctions with your friends: one clock, every phone, nobody sniped.</p>
        </div>
        <div class="card">
        <h1>Sign in to Gavel</h1>
        <p class="muted">No password: we e-mail you a link and a code. New here? The same step creates your account.</p>
        {error && <Notice>{error}</Notice>}
        <form onSubmit={send} noValidate>
          <Field id="email" label="Email address">
            <input
              id="email"
              type="email"
              inputMode="email"
              autocomplete="email"
              value={email}
              onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
              required
              autoFocus
            />
          </Field>
          <button class="btn-primary btn-block" disabled={busy}>
            {busy ? 'Sending…' : 'Send sign-in link'}
          </button>
        </form>
        <p class="small muted" style="margin-top:16px">
          New to auctions? <a href="/help">How Gavel works</a>
        </p>
        </div>
      </div>
    </div>
  );
}
