// Profile: the display name others see in the room; sign out.
import { useState } from 'preact/hooks';
import { api, ApiError, session, setUser, signOut, type User } from '../api/client';
import { Field, Notice } from '../components/ui';
import { navigate } from '../router';

export default function Profile() {
  const user = session.value.user!;
  const [name, setName] = useState(user.name);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const save = async (e: Event) => {
    e.preventDefault();
    const n = name.trim();
    if (n.length < 2 || n.length > 30) {
      setMsg({ kind: 'error', text: 'Use 2 to 30 characters.' });
      return;
    }
    setBusy(true);
    setMsg(null);
    try {
      const u = await api<User>('PATCH', '/api/me', { name: n });
      setUser(u);
      setName(u.name);
      setMsg({ kind: 'ok', text: 'Saved. Everyone sees this name in the room.' });
    } catch (err) {
      setMsg({ kind: 'error', text: err instanceof ApiError ? err.message : 'Saving failed. Try again.' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page narrow">
      <h1>Profile</h1>
      <form class="card" onSubmit={save} noValidate>
        <Field id="name" label="Display name" error={msg?.kind === 'error' ? msg.text : null} hint="2 to 30 characters. Shown to the other managers.">
          <input
            id="name"
            value={name}
            maxLength={30}
            autocomplete="nickname"
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
            aria-invalid={msg?.kind === 'error' ? 'true' : undefined}
            aria-describedby={msg?.kind === 'error' ? 'name-err' : 'name-hint'}
          />
        </Field>
        {msg?.kind === 'ok' && <Notice kind="ok">{msg.text}</Notice>}
        <div class="row between">
          <span class="small muted">Signed in as {user.email}</span>
          <button class="btn-primary" disabled={busy || name.trim() === user.name}>
            {busy ? 'Saving…' : 'Save name'}
          </button>
        </div>
      </form>
      <div class="card">
        <h2>Sign out</h2>
        <p class="small muted">Signs this device out. Your leagues stay as they are.</p>
        <button
          type="button"
          onClick={async () => {
            await signOut();
            navigate('/signin', { replace: true });
          }}
        >
          Sign out
        </button>
      </div>
    </div>
  );
}
