// The commissioner's asset selection: search the catalogue (paged), add and remove, set the order.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { putLeagueAssets, searchAssets } from '../../api/leagues';
import type { Asset, League } from '../../api/types';
import { Notice } from '../../components/ui';

interface Picked {
  id: string;
  name: string;
  sub: string;
}

function sub(a: { team?: string | null; country?: string | null; role?: string | null; shortName?: string | null }): string {
  return [a.role, a.team ?? a.country].filter(Boolean).join(' · ');
}

export function AssetPicker(props: { league: League; initial: Asset[]; assetPlural: string; onSaved: () => void }) {
  const { league } = props;
  const [picked, setPicked] = useState<Picked[]>(() => props.initial.map((a) => ({ id: a.id ?? (a as any).assetId, name: a.name, sub: sub(a) })));
  const [dirty, setDirty] = useState(false);
  const [q, setQ] = useState('');
  const [scope, setScope] = useState<'competition' | 'sport'>('competition');
  const [results, setResults] = useState<Asset[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const seq = useRef(0);

  const run = async (more: boolean) => {
    const my = ++seq.current;
    setSearching(true);
    setSearchError(null);
    try {
      const page = await searchAssets(league.sport, scope === 'competition' ? league.competition : '', q.trim(), more ? cursor : null);
      if (my !== seq.current) return;
      setResults((r) => (more ? [...r, ...page.items] : page.items));
      setCursor(page.nextCursor);
    } catch (e) {
      if (my === seq.current) setSearchError(e instanceof ApiError ? e.message : 'Search failed. Try again.');
    } finally {
      if (my === seq.current) setSearching(false);
    }
  };

  useEffect(() => {
    const t = setTimeout(() => run(false), 200);
    return () => clearTimeout(t);
  }, [q, scope]);

  const ids = new Set(picked.map((p) => p.id));
  const change = (next: Picked[]) => {
    setPicked(next);
    setDirty(true);
    setMsg(null);
  };
  const add = (a: Asset) => !ids.has(a.id) && change([...picked, { id: a.id, name: a.name, sub: sub(a) }]);
  const remove = (id: string) => change(picked.filter((p) => p.id !== id));
  const move = (i: number, d: number) => {
    const j = i + d;
    if (j < 0 || j >= picked.length) return;
    const next = [...picked];
    [next[i], next[j]] = [next[j], next[i]];
    change(next);
  };

  const min = league.settings.rosterSize;
  const save = async () => {
    if (picked.length < min) {
      setMsg({ kind: 'error', text: `Choose at least ${min} ${props.assetPlural.toLowerCase()} (the roster size).` });
      return;
    }
    setSaving(true);
    setMsg(null);
    try {
      await putLeagueAssets(league.id, picked.map((p) => p.id));
      setDirty(false);
      setMsg({ kind: 'ok', text: `Saved: ${picked.length} ${props.assetPlural.toLowerCase()} will be auctioned.` });
      props.onSaved();
    } catch (e) {
      setMsg({ kind: 'error', text: e instanceof ApiError ? e.message : 'Saving failed. Try again.' });
    } finally {
      setSaving(false);
    }
  };

  const fixed = league.settings.lotOrder === 'fixed';
  return (
    <div class="picker">
      <div class="grid-2">
        <div>
          <h3 class="section-title" style="margin-top:0">Find {props.assetPlural.toLowerCase()}</h3>
          <div class="row" style="margin-bottom:8px">
            <label class="visually-hidden" for="asset-q">
              Search {props.assetPlural.toLowerCase()}
            </label>
            <input id="asset-q" type="search" class="grow" style="flex:1 1 160px;width:auto;min-width:0" placeholder="Search by name" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
            <label class="visually-hidden" for="asset-scope">
              Where to search
            </label>
            <select id="asset-scope" style="flex:1 1 140px;width:auto;min-width:0" value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value as 'competition' | 'sport')}>
              <option value="competition">{league.competition} only</option>
              <option value="sport">Every {league.sport} asset</option>
            </select>
          </div>
          {searchError && <Notice>{searchError}</Notice>}
          <div class="scroll-box" aria-busy={searching}>
            <ul class="list" aria-label="Search results">
              {results.map((a) => (
                <li key={a.id}>
                  <div class="grow">
                    <div class="name">{a.name}</div>
                    <div class="small muted">{sub(a) || '\u00a0'}</div>
                  </div>
                  {ids.has(a.id) ? (
                    <button type="button" class="btn-added" onClick={() => remove(a.id)}>
                      Remove<span class="visually-hidden"> {a.name}</span>
                    </button>
                  ) : (
                    <button type="button" onClick={() => add(a)}>
                      Add<span class="visually-hidden"> {a.name}</span>
                    </button>
                  )}
                </li>
              ))}
              {!searching && results.length === 0 && <li class="muted">Nothing matches “{q}”.</li>}
            </ul>
            {cursor && (
              <button type="button" class="btn-block" style="margin:8px 0" onClick={() => run(true)} disabled={searching}>
                {searching ? 'Loading…' : 'Show more'}
              </button>
            )}
          </div>
          <div class="row" style="margin-top:8px">
            <button type="button" onClick={() => change([...picked, ...results.filter((a) => !ids.has(a.id)).map((a) => ({ id: a.id, name: a.name, sub: sub(a) }))])} disabled={!results.length}>
              Add all shown
            </button>
          </div>
        </div>
        <div>
          <h3 class="section-title" style="margin-top:0">
            Selected <span class="tabular">({picked.length})</span>
          </h3>
          <p class="small muted">{fixed ? 'Lots come up in this order.' : 'The order is shuffled when the auction is created.'}</p>
          <div class="scroll-box">
            <ol class="list" aria-label="Selected assets">
              {picked.map((p, i) => (
                <li key={p.id} class="asset-row">
                  <span class="pos">{i + 1}</span>
                  <div class="grow">
                    <div class="name">{p.name}</div>
                    {p.sub && <div class="small muted">{p.sub}</div>}
                  </div>
                  <div class="asset-tools">
                    {fixed && (
                      <>
                        <button type="button" onClick={() => move(i, -1)} disabled={i === 0} title="Move up">
                          <span aria-hidden="true">↑</span>
                          <span class="visually-hidden">Move {p.name} up</span>
                        </button>
                        <button type="button" onClick={() => move(i, 1)} disabled={i === picked.length - 1} title="Move down">
                          <span aria-hidden="true">↓</span>
                          <span class="visually-hidden">Move {p.name} down</span>
                        </button>
                      </>
                    )}
                    <button type="button" onClick={() => remove(p.id)} title="Remove">
                      <span aria-hidden="true">✕</span>
                      <span class="visually-hidden">Remove {p.name}</span>
                    </button>
                  </div>
                </li>
              ))}
              {picked.length === 0 && <li class="muted">Nothing selected yet.</li>}
            </ol>
          </div>
          {msg && (
            <div style="margin-top:12px">
              <Notice kind={msg.kind}>{msg.text}</Notice>
            </div>
          )}
          <div class="row between" style="margin-top:12px">
            <button type="button" class="btn-ghost" onClick={() => change([])} disabled={!picked.length}>
              Clear
            </button>
            <button type="button" class="btn-primary" onClick={save} disabled={saving || !dirty}>
              {saving ? 'Saving…' : dirty ? 'Save selection' : 'Saved'}
            </button>
          </div>
        </div>
      </div>
    </div>
  );
}
