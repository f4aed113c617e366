// Fixtures by round with results; for the commissioner: enter or correct a result, edit a
// fixture's kick-off, status, venue and round, and delete it (after a confirmation). The server's
// refusals are shown at the field its error names.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { ConfirmDialog, errorText } from '../../components/ui';
import { seasonApi } from './api';
import { FIXTURE_STATUSES, fixtureChanges, fixtureForm, groupByRound, scoreText, type Fixture, type FixtureForm } from './season';

const dateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
export function when(iso?: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFmt.format(d);
}

const STATUS_LABEL: Record<string, string> = {
  scheduled: 'Scheduled',
  live: 'Live',
  finished: 'Finished',
  postponed: 'Postponed',
  cancelled: 'Cancelled',
};

/** The field a refusal names (details.field), and its sentence. */
function refusal(e: unknown): { field: string | null; message: string } {
  const field = e instanceof ApiError && typeof e.details?.field === 'string' ? (e.details.field as string) : null;
  return { field, message: errorText(e) };
}

export function FixturesCard({ id, fixtures, isComm, onSaved }: { id: string; fixtures: Fixture[]; isComm: boolean; onSaved: () => void }) {
  const groups = groupByRound(fixtures);
  return (
    <section class="card" aria-labelledby="fixtures-h">
      <h2 id="fixtures-h">Fixtures and results</h2>
      {groups.length === 0 && <p class="muted small">No fixtures yet.{isComm ? ' Import them from a CSV file.' : ''}</p>}
      {groups.map((g) => (
        <div class="s-round" key={g.key}>
          <h3>{g.label}</h3>
          <ul class="s-fixtures">
            {g.fixtures.map((f) => (
              <FixtureRow key={f.id} id={id} f={f} isComm={isComm} onSaved={onSaved} />
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

type Mode = 'view' | 'result' | 'edit';

function FixtureRow({ id, f, isComm, onSaved }: { id: string; f: Fixture; isComm: boolean; onSaved: () => void }) {
  const [mode, setMode] = useState<Mode>('view');
  const label = `${f.homeName} v ${f.awayName}`;
  const done = () => {
    setMode('view');
    onSaved();
  };
  const status = f.status !== 'scheduled' && f.status !== 'finished' ? STATUS_LABEL[f.status] ?? f.status : '';
  return (
    <li class="s-fixture" data-testid={`fixture-${f.externalMatchId}`}>
      <div class="s-fx-line">
        <span class="s-team home">{f.homeName}</span>
        <span class={`s-score num${f.homeGoals === null ? ' none' : ''}`}>{scoreText(f)}</span>
        <span class="s-team away">{f.awayName}</span>
      </div>
      <p class="s-fx-meta small muted">
        <time dateTime={f.startsAt}>{when(f.startsAt)}</time>
        {f.venue ? ` · ${f.venue}` : ''}
        {status && (
          <>
            {' · '}
            <span class={`s-status s-status-${f.status}`}>{status}</span>
          </>
        )}
      </p>
      {isComm && mode === 'view' && (
        <div class="s-fx-actions">
          <button type="button" class="btn-small" onClick={() => setMode('result')}>
            {f.homeGoals === null ? 'Enter result' : 'Correct result'}
            <span class="visually-hidden"> of {label}</span>
          </button>
          <button type="button" class="btn-small" onClick={() => setMode('edit')}>
            Edit<span class="visually-hidden"> {label}</span>
          </button>
        </div>
      )}
      {mode === 'result' && <ResultForm id={id} f={f} label={label} onDone={done} onCancel={() => setMode('view')} />}
      {mode === 'edit' && <EditForm id={id} f={f} label={label} onDone={done} onCancel={() => setMode('view')} />}
    </li>
  );
}

function ResultForm({ id, f, label, onDone, onCancel }: { id: string; f: Fixture; label: string; onDone: () => void; onCancel: () => void }) {
  const [home, setHome] = useState(f.homeGoals === null ? '' : String(f.homeGoals));
  const [away, setAway] = useState(f.awayGoals === null ? '' : String(f.awayGoals));
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<{ field: string | null; message: string } | null>(null);
  const errId = `fx-${f.id}-result-err`;
  const save = async (e: Event) => {
    e.preventDefault();
    const h = home.trim();
    const a = away.trim();
    if (!/^\d+$/.test(h) || !/^\d+$/.test(a)) {
      setErr({ field: !/^\d+$/.test(h) ? 'homeGoals' : 'awayGoals', message: 'Enter both scores as whole numbers.' });
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      await seasonApi.saveFixture(id, f.id, { homeGoals: Number(h), awayGoals: Number(a), status: 'finished' });
      onDone();
    } catch (x) {
      setErr(refusal(x));
    } finally {
      setBusy(false);
    }
  };
  const goal = (which: 'homeGoals' | 'awayGoals', name: string, value: string, set: (v: string) => void) => (
    <label>
      <span class="visually-hidden">{name} goals</span>
      <input
        type="number"
        inputMode="numeric"
        min={0}
        max={999}
        value={value}
        aria-invalid={err?.field === which ? 'true' : undefined}
        aria-describedby={err ? errId : undefined}
        onInput={(e) => set((e.target as HTMLInputElement).value)}
      />
    </label>
  );
  return (
    <form class="s-result" onSubmit={save} aria-label={`Result of ${label}`} noValidate>
      {goal('homeGoals', f.homeName, home, setHome)}
      <span aria-hidden="true">–</span>
      {goal('awayGoals', f.awayName, away, setAway)}
      <div class="s-form-actions">
        <button class="btn-primary" type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {err && (
        <p class="field-msg s-err" id={errId} role="alert">
          {err.message}
        </p>
      )}
    </form>
  );
}

const EDIT_FIELDS: Array<keyof FixtureForm> = ['startsAt', 'status', 'venue', 'round'];

function EditForm({ id, f, label, onDone, onCancel }: { id: string; f: Fixture; label: string; onDone: () => void; onCancel: () => void }) {
  const [form, setForm] = useState<FixtureForm>(() => fixtureForm(f));
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<{ field: string | null; message: string } | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [delErr, setDelErr] = useState<string | null>(null);
  const fid = (k: string) => `fx-${f.id}-${k}`;
  const set = (k: keyof FixtureForm) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement | HTMLSelectElement).value });
  const fieldErr = (k: keyof FixtureForm) => (err && err.field === k ? err.message : null);
  const formErr = err && !EDIT_FIELDS.includes(err.field as keyof FixtureForm) ? err.message : null;

  const save = async (e: Event) => {
    e.preventDefault();
    const c = fixtureChanges(f, form);
    if ('field' in c) {
      setErr(c);
      return;
    }
    if (Object.keys(c.body).length === 0) {
      onCancel();
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      await seasonApi.saveFixture(id, f.id, c.body);
      onDone();
    } catch (x) {
      setErr(refusal(x));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    setDelErr(null);
    try {
      await seasonApi.deleteFixture(id, f.id);
      setConfirm(false);
      onDone();
    } catch (x) {
      setDelErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  const field = (k: keyof FixtureForm, text: string, control: JSX.Element) => (
    <div class={`field${fieldErr(k) ? ' field-error' : ''}`}>
      <label for={fid(k)}>{text}</label>
      {control}
      {fieldErr(k) && (
        <p class="field-msg error-text" id={fid(k) + '-err'} role="alert">
          {fieldErr(k)}
        </p>
      )}
    </div>
  );
  const aria = (k: keyof FixtureForm) => ({
    id: fid(k),
    'aria-invalid': fieldErr(k) ? ('true' as const) : undefined,
    'aria-describedby': fieldErr(k) ? fid(k) + '-err' : undefined,
  });
  return (
    <form class="s-edit" onSubmit={save} aria-label={`Edit ${label}`} noValidate>
      <div class="s-edit-grid">
        {field('startsAt', 'Kick-off', <input type="datetime-local" required value={form.startsAt} onInput={set('startsAt')} {...aria('startsAt')} />)}
        {field(
          'status',
          'Status',
          <select value={form.status} onChange={set('status')} {...aria('status')}>
            {FIXTURE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>,
        )}
        {field('venue', 'Venue', <input type="text" maxLength={120} value={form.venue} onInput={set('venue')} {...aria('venue')} />)}
        {field('round', 'Round', <input type="text" maxLength={60} value={form.round} onInput={set('round')} {...aria('round')} />)}
      </div>
      {formErr && (
        <p class="field-msg error-text" role="alert">
          {formErr}
        </p>
      )}
      <div class="s-form-actions">
        <button class="btn-primary" type="submit" disabled={busy}>
          {busy && !confirm ? 'Saving…' : 'Save changes'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="button" class="btn-danger s-delete" onClick={() => setConfirm(true)} disabled={busy}>
          Delete…
        </button>
      </div>
      <ConfirmDialog
        open={confirm}
        title={`Delete ${label}?`}
        body={<p>The fixture and its result go, and the table is re-scored without it. Importing it again brings it back.</p>}
        confirmLabel="Delete fixture"
        danger
        busy={busy}
        error={delErr}
        onConfirm={remove}
        onCancel={() => {
          setConfirm(false);
          setDelErr(null);
        }}
      />
    </form>
  );
}
