// Create a league: every setting with its range and a sensible default; errors beside the field,
// from the form's own checks and from the API's 400 details.field.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { createLeague, getLeague, listCompetitions, listSports, patchLeague } from '../api/leagues';
import type { Competition, Sport } from '../api/types';
import { Field, LoadError, Notice, Spinner, useLoad } from '../components/ui';
import { currencySymbol, formatMoneyLong, parseMoney } from '../lib/format';
import { buildBody, CURRENCIES, defaultValues, LOT_ORDERS, NUMBER_SETTINGS, valuesFrom, type Errors, type FormValues, type SettingKey } from '../lib/settings';
import { navigate } from '../router';

/** Creates a league, or with `id` edits one (while it has no auction). */
export default function NewLeague({ id }: { id?: string }) {
  const cat = useLoad(() => Promise.all([listSports(), listCompetitions(), id ? getLeague(id) : Promise.resolve(null)]), [id]);
  const [v, setV] = useState<FormValues>(defaultValues());
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const sports: Sport[] = cat.data?.[0] ?? [];
  const comps: Competition[] = cat.data?.[1] ?? [];
  const compsForSport = useMemo(() => comps.filter((c) => c.sport === v.sport), [comps, v.sport]);

  const editing = cat.data?.[2] ?? null;
  useEffect(() => {
    if (editing) {
      setV(valuesFrom(editing));
      return;
    }
    if (!cat.data || v.sport) return;
    const s = sports.find((x) => x.key === 'football') ?? sports[0];
    const c = s && comps.find((x) => x.sport === s.key);
    if (s) setV((o) => ({ ...o, sport: s.key, competition: c?.code ?? '' }));
  }, [cat.data]);

  if (cat.loading) return <Spinner label="Loading sports" />;
  if (cat.error) return <LoadError error={cat.error} onRetry={cat.reload} />;

  const set = (k: keyof FormValues, val: string) => {
    setV((o) => ({ ...o, [k]: val }));
    if (errors[k]) setErrors((e) => ({ ...e, [k]: undefined }));
  };
  const input = (k: keyof FormValues) => ({
    id: 'f-' + k,
    name: k,
    value: v[k],
    onInput: (e: Event) => set(k, (e.target as HTMLInputElement).value),
    'aria-invalid': errors[k] ? ('true' as const) : undefined,
    'aria-describedby': errors[k] ? `f-${k}-err` : `f-${k}-hint`,
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    setFormError(null);
    const { body, errors: errs } = buildBody(v);
    setErrors(errs);
    if (!body) {
      const first = Object.keys(errs)[0];
      document.getElementById('f-' + first)?.focus();
      return;
    }
    setBusy(true);
    try {
      if (editing) {
        const { sport: _s, competition: _c, ...patch } = body;
        await patchLeague(editing.id, patch);
        navigate(`/leagues/${encodeURIComponent(editing.id)}`);
        return;
      }
      const l = await createLeague(body);
      navigate(`/leagues/${encodeURIComponent(l.id)}?created=1`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_request' && err.details?.field) {
        const f = String(err.details.field);
        setErrors({ [f]: err.message });
        document.getElementById('f-' + f)?.focus();
        if (!document.getElementById('f-' + f)) setFormError(err.message);
      } else setFormError(err instanceof ApiError ? err.message : 'Something went wrong. Please try again.');
    } finally {
      setBusy(false);
    }
  };

  const numberField = (key: SettingKey) => {
    const s = NUMBER_SETTINGS.find((x) => x.key === key)!;
    const parsed = s.money ? parseMoney(v[key]) : null;
    const hint = s.money && parsed !== null ? `${s.help} ${formatMoneyLong(parsed, v.currency)}.` : `${s.help}${s.money ? '' : ` ${s.min}–${s.max}${s.unit ?? ''}.`}`;
    return (
      <Field id={'f-' + key} label={s.label + (s.money ? ` (${currencySymbol(v.currency).trim()})` : s.unit ? ' (seconds)' : '')} error={errors[key]} hint={hint}>
        <input {...input(key)} inputMode={s.money ? 'decimal' : 'numeric'} autocomplete="off" />
      </Field>
    );
  };

  const comp = comps.find((c) => c.code === v.competition);

  return (
    <div class="page narrow">
      <p class="eyebrow">
        {editing ? <a href={`/leagues/${encodeURIComponent(editing.id)}`}>{editing.name}</a> : <a href="/">Your leagues</a>}
      </p>
      <h1>{editing ? 'League settings' : 'New league'}</h1>
      <p class="muted">{editing ? 'Changes apply at once. Settings lock when you create the auction room.' : 'Everything here can be changed until you create the auction room.'}</p>
      {formError && <Notice>{formError}</Notice>}
      <form onSubmit={submit} noValidate>
        <div class="card">
          <fieldset>
            <legend>The league</legend>
            <Field id="f-name" label="League name" error={errors.name} hint="1 to 60 characters. Your friends see it.">
              <input {...input('name')} maxLength={60} autocomplete="off" placeholder="Friday night auction" />
            </Field>
            <div class="fields-2">
              <Field id="f-sport" label="Sport" error={errors.sport}>
                <select
                  {...input('sport')}
                  disabled={!!editing}
                  onChange={(e) => {
                    const s = (e.target as HTMLSelectElement).value;
                    const c = comps.find((x) => x.sport === s);
                    setV((o) => ({ ...o, sport: s, competition: c?.code ?? '' }));
                  }}
                >
                  {sports.map((s) => (
                    <option value={s.key} key={s.key}>
                      {s.name}
                    </option>
                  ))}
                </select>
              </Field>
              <Field
                id="f-competition"
                label="Competition"
                error={errors.competition}
                hint={comp ? `${comp.assetCount} ${(sports.find((s) => s.key === v.sport)?.assetPlural ?? 'assets').toLowerCase()} · ${comp.season}` : undefined}
              >
                <select {...input('competition')} disabled={!!editing} onChange={(e) => set('competition', (e.target as HTMLSelectElement).value)}>
                  {compsForSport.map((c) => (
                    <option value={c.code} key={c.code}>
                      {c.name} {c.season}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
          </fieldset>
        </div>
        <div class="card">
          <fieldset>
            <legend>Money and rosters</legend>
            <div class="fields-2">
              <Field id="f-currency" label="Currency" hint="For display only.">
                <select {...input('currency')} onChange={(e) => set('currency', (e.target as HTMLSelectElement).value)}>
                  {CURRENCIES.map(([code, name]) => (
                    <option value={code} key={code}>
                      {name}
                    </option>
                  ))}
                </select>
              </Field>
              {numberField('budget')}
              {numberField('rosterSize')}
              {numberField('minBid')}
              {numberField('minIncrement')}
            </div>
          </fieldset>
        </div>
        <div class="card">
          <fieldset>
            <legend>Who plays</legend>
            <div class="fields-2">
              {numberField('minManagers')}
              {numberField('maxManagers')}
            </div>
          </fieldset>
        </div>
        <div class="card">
          <fieldset>
            <legend>The auction clock</legend>
            <div class="fields-2">
              {numberField('lotSeconds')}
              {numberField('antiSnipeSeconds')}
              {numberField('intermissionSeconds')}
              {numberField('reofferUnsold')}
            </div>
            <Field id="f-lotOrder" label="Order of lots" hint={LOT_ORDERS.find((o) => o[0] === v.lotOrder)?.[2]}>
              <select {...input('lotOrder')} onChange={(e) => set('lotOrder', (e.target as HTMLSelectElement).value)}>
                {LOT_ORDERS.map(([k, label]) => (
                  <option value={k} key={k}>
                    {label}
                  </option>
                ))}
              </select>
            </Field>
          </fieldset>
        </div>
        <div class="row end" style="margin-top:24px">
          <a class="btn" href={editing ? `/leagues/${encodeURIComponent(editing.id)}` : '/'}>
            Cancel
          </a>
          <button class="btn-primary" disabled={busy}>
            {busy ? 'Saving…' : editing ? 'Save settings' : 'Create league'}
          </button>
        </div>
      </form>
    </div>
  );
}
