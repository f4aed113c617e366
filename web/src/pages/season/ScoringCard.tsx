// The scoring rules editor (commissioner): per-event points, and for cricket the milestones
// (half-century, century, five-wicket haul: on/off, threshold, bonus) with each default shown.
// Saves a JSON merge patch of the changes; a value back at its default is sent as null.
import { useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { listSports } from '../../api/leagues';
import { Notice, errorText, useLoad } from '../../components/ui';
import { seasonApi, type Scoring } from './api';
import { FALLBACK_DEFAULTS, MILESTONE_LABEL, RULE_LABEL, defaultsForm, milestoneDefaultText, scoringForm, scoringPatch, type ScoringForm } from './scoring';

const fieldId = (name: string) => 'sc-' + name.replace(/\./g, '-');

async function loadRules(id: string, sport: string): Promise<{ current: Scoring; defaults: Scoring }> {
  const [current, sports] = await Promise.all([seasonApi.scoring(id), listSports().catch(() => [])]);
  const fromServer = sports.find((s) => s.key === (current.sport || sport))?.scoring as Scoring | undefined;
  return { current, defaults: fromServer ?? FALLBACK_DEFAULTS[current.sport] ?? { sport: current.sport, rules: {} } };
}

export function ScoringCard({ id, sport, onSaved }: { id: string; sport: string; onSaved: () => void }) {
  const r = useLoad(() => loadRules(id, sport), [id]);
  if (!r.data) return null;
  const { defaults } = r.data;
  return (
    <RulesForm
      id={id}
      current={r.data.current}
      defaults={defaults}
      onSaved={(s) => {
        r.set({ current: s, defaults });
        onSaved();
      }}
    />
  );
}

function RulesForm({ id, current, defaults, onSaved }: { id: string; current: Scoring; defaults: Scoring; onSaved: (s: Scoring) => void }) {
  const [form, setForm] = useState<ScoringForm>(() => scoringForm(current));
  const [busy, setBusy] = useState(false);
  const [bad, setBad] = useState<{ field: string; message: string } | null>(null);
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error' | 'info'; text: string } | null>(null);

  const save = async (e: Event) => {
    e.preventDefault();
    const p = scoringPatch(form, current, defaults);
    if ('field' in p) {
      setBad(p);
      setMsg(null);
      document.getElementById(fieldId(p.field))?.focus();
      return;
    }
    setBad(null);
    if (p.changes === 0) {
      setMsg({ kind: 'info', text: 'Nothing to change.' });
      return;
    }
    setBusy(true);
    setMsg(null);
    try {
      const s = await seasonApi.saveScoring(id, p.patch);
      setForm(scoringForm(s));
      setMsg({ kind: 'ok', text: 'Saved. The table is re-scored.' });
      onSaved(s);
    } catch (x) {
      const field = x instanceof ApiError && typeof x.details?.field === 'string' ? (x.details.field as string) : null;
      if (field && document.getElementById(fieldId(field))) setBad({ field, message: errorText(x) });
      else setMsg({ kind: 'error', text: errorText(x) });
    } finally {
      setBusy(false);
    }
  };

  const invalid = (name: string) => bad?.field === name;
  // A field's hint (its default), or the refusal in its place.
  const describe = (name: string, hint: string) =>
    invalid(name) || hint ? (
      <p class={`field-msg ${invalid(name) ? 'error-text' : 'muted'}`} id={fieldId(name) + '-d'} role={invalid(name) ? 'alert' : undefined}>
        {invalid(name) ? bad!.message : hint}
      </p>
    ) : null;
  const num = (name: string, label: string, value: string, hint: string, onValue: (v: string) => void) => (
    <div class={`field${invalid(name) ? ' field-error' : ''}`}>
      <label for={fieldId(name)}>{label}</label>
      <input
        id={fieldId(name)}
        type="number"
        inputMode="numeric"
        min={name.endsWith('.threshold') ? 1 : 0}
        max={1_000_000}
        value={value}
        aria-invalid={invalid(name) ? 'true' : undefined}
        aria-describedby={invalid(name) || hint ? fieldId(name) + '-d' : undefined}
        onInput={(e) => onValue((e.target as HTMLInputElement).value)}
      />
      {describe(name, hint)}
    </div>
  );
  const milestones = Object.entries(form.milestones);
  return (
    <section class="card" aria-labelledby="scoring-h">
      <h2 id="scoring-h">Scoring rules</h2>
      <form onSubmit={save} noValidate>
        <div class="s-rules">
          {Object.entries(form.rules).map(([k, v]) =>
            num(`rules.${k}`, RULE_LABEL[k] ?? k, v, defaults.rules[k] !== undefined ? `Default ${defaults.rules[k]}` : '', (x) =>
              setForm({ ...form, rules: { ...form.rules, [k]: x } }),
            ),
          )}
        </div>
        {milestones.length > 0 && (
          <div class="s-milestones">
            <h3>Milestone bonuses</h3>
            <p class="small muted">A bonus for each match in which a player reaches one. They add up: a century also earns the half-century bonus when both count.</p>
            {milestones.map(([k, m]) => {
              const d = defaults.milestones?.[k];
              const lab = MILESTONE_LABEL[k] ?? { name: k, unit: 'Threshold' };
              const setM = (patch: Partial<typeof m>) => setForm({ ...form, milestones: { ...form.milestones, [k]: { ...m, ...patch } } });
              return (
                <fieldset class="s-milestone" key={k} aria-describedby={fieldId(`milestones.${k}`) + '-d'}>
                  <legend>{lab.name}</legend>
                  <label class="check">
                    <input type="checkbox" id={fieldId(`milestones.${k}.enabled`)} checked={m.enabled} onChange={(e) => setM({ enabled: (e.target as HTMLInputElement).checked })} />
                    Counts in this league
                  </label>
                  <div class="s-rules">
                    {num(`milestones.${k}.threshold`, `${lab.unit} needed`, m.threshold, '', (x) => setM({ threshold: x }))}
                    {num(`milestones.${k}.points`, 'Bonus points', m.points, '', (x) => setM({ points: x }))}
                  </div>
                  <p class="field-msg muted s-ms-default" id={fieldId(`milestones.${k}`) + '-d'}>
                    {milestoneDefaultText(k, d)}
                  </p>
                </fieldset>
              );
            })}
          </div>
        )}
        <div class="s-form-actions">
          <button class="btn-primary" type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save rules'}
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setForm(defaultsForm(current, defaults));
              setBad(null);
              setMsg({ kind: 'info', text: 'The defaults are filled in: save to use them.' });
            }}
          >
            Back to defaults
          </button>
        </div>
        {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      </form>
    </section>
  );
}
