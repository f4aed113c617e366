// The season page (issue 11): the league table with each manager's assets and an asset's match
// history, the points-over-time chart (inline SVG), the asset leaderboard, fixtures by round with
// results; for the commissioner also CSV import with the per-row report, result entry and the
// scoring rules. Refreshes every 15 s and when the tab becomes visible again.
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, session } from '../../api/client';
import { getLeague } from '../../api/leagues';
import type { League } from '../../api/types';
import { LoadError, Notice, Spinner, errorText, useLoad } from '../../components/ui';
import { seasonApi, type AssetPoints, type BoardItem, type ImportReport, type Scoring, type Series, type Standing } from './api';
import { goodRowCount, groupByRound, linePoints, niceMax, scoreText, tiebreakText, type Fixture } from './season';
import './season.css';

interface Data {
  league: League;
  standings: Standing[];
  series: Series | null;
  board: BoardItem[];
  fixtures: Fixture[];
}

async function loadAll(id: string): Promise<Data> {
  const [league, st, series, board, fixtures] = await Promise.all([
    getLeague(id),
    seasonApi.standings(id),
    seasonApi.series(id).catch(() => null),
    seasonApi.leaderboard(id).catch(() => ({ items: [] as BoardItem[] })),
    seasonApi.fixtures(id),
  ]);
  return { league, standings: st.items, series, board: board.items, fixtures };
}

const dateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
function when(iso?: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFmt.format(d);
}

export default function SeasonPage({ id }: { id: string }) {
  const res = useLoad(() => loadAll(id), [id]);
  const [data, setData] = useState<Data | null>(null);
  useEffect(() => {
    if (res.data) setData(res.data);
  }, [res.data]);
  const refresh = () => {
    loadAll(id).then(setData, () => undefined);
  };
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, 15_000);
    const onVis = () => document.visibilityState === 'visible' && refresh();
    document.addEventListener('visibilitychange', onVis);
    return () => {
      clearInterval(t);
      document.removeEventListener('visibilitychange', onVis);
    };
  }, [id]);

  const d = data ?? res.data;
  if (!d && res.loading) return <Spinner label="Loading the season" />;
  if (!d) return <LoadError error={res.error} onRetry={res.reload} />;
  const me = session.value.user;
  const isComm = d.league.commissionerId === me?.id;
  const owners = new Map(d.standings.map((s) => [s.userId, s.name]));

  return (
    <div class="page wide season">
      <div class="page-head">
        <div>
          <p class="small muted">
            <a href={`/leagues/${encodeURIComponent(id)}`}>{d.league.name}</a>
          </p>
          <h1>Season</h1>
        </div>
      </div>
      <div class="season-grid">
        <div class="season-main">
          <TableCard id={id} standings={d.standings} />
          <ChartCard series={d.series} />
          <FixturesCard id={id} fixtures={d.fixtures} isComm={isComm} onSaved={refresh} />
        </div>
        <div class="season-side">
          <BoardCard board={d.board} owners={owners} />
          {isComm && <ImportCard id={id} onDone={refresh} />}
          {isComm && <ScoringCard id={id} onSaved={refresh} />}
        </div>
      </div>
    </div>
  );
}

// ---- league table --------------------------------------------------------------------------

function TableCard({ id, standings }: { id: string; standings: Standing[] }) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section class="card" aria-labelledby="table-h">
      <h2 id="table-h">League table</h2>
      {standings.length === 0 ? (
        <p class="muted small">No managers yet.</p>
      ) : (
        <table class="s-table" data-testid="league-table">
          <thead>
            <tr>
              <th scope="col" class="num">
                <abbr title="Rank">#</abbr>
              </th>
              <th scope="col">Manager</th>
              <th scope="col" class="num">
                Points
              </th>
            </tr>
          </thead>
          <tbody>
            {standings.map((s) => {
              const isOpen = open === s.userId;
              const tb = tiebreakText(s.tiebreak);
              return (
                <Fragment key={s.userId}>
                  <tr class={isOpen ? 'open' : undefined}>
                    <td class="num rank">{s.rank}</td>
                    <td>
                      <button
                        class="linkish"
                        aria-expanded={isOpen}
                        aria-controls={`assets-${s.userId}`}
                        onClick={() => setOpen(isOpen ? null : s.userId)}
                      >
                        <span class="chev" aria-hidden="true">
                          {isOpen ? '▾' : '▸'}
                        </span>
                        {s.name}
                      </button>
                      {tb && <div class="tb small muted">{tb}</div>}
                    </td>
                    <td class="num pts" data-testid={`points-${s.name}`}>
                      {s.points}
                    </td>
                  </tr>
                  {isOpen && (
                    <tr class="sub">
                      <td />
                      <td colSpan={2} id={`assets-${s.userId}`}>
                        <AssetList id={id} assets={s.assets} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function AssetList({ id, assets }: { id: string; assets: Standing['assets'] }) {
  const [open, setOpen] = useState<string | null>(null);
  if (!assets.length) return <p class="small muted">No assets won.</p>;
  return (
    <ul class="s-assets">
      {assets.map((a) => (
        <li key={a.assetId}>
          <div class="s-asset-row">
            <button class="linkish" aria-expanded={open === a.assetId} onClick={() => setOpen(open === a.assetId ? null : a.assetId)}>
              {a.name}
            </button>
            <span class="num">{a.points}</span>
          </div>
          {open === a.assetId && <History id={id} assetId={a.assetId} />}
        </li>
      ))}
    </ul>
  );
}

function History({ id, assetId }: { id: string; assetId: string }) {
  const r = useLoad<AssetPoints>(() => seasonApi.assetPoints(id, assetId), [id, assetId]);
  if (r.loading) return <p class="small muted">Loading matches…</p>;
  if (r.error || !r.data) return <p class="small">{errorText(r.error)}</p>;
  if (!r.data.items.length) return <p class="small muted">No matches yet.</p>;
  return (
    <table class="s-history small">
      <caption class="visually-hidden">Matches of {r.data.name}</caption>
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">Opponent</th>
          <th scope="col" class="num">
            Score
          </th>
          <th scope="col" class="num">
            Pts
          </th>
        </tr>
      </thead>
      <tbody>
        {r.data.items.map((m, i) => (
          <tr key={m.fixtureId ?? m.externalMatchId + i}>
            <td class="nowrap">{m.startsAt ? dayFmt.format(new Date(m.startsAt)) : m.externalMatchId}</td>
            <td>
              {m.opponent ?? '—'}
              {m.home !== undefined && <span class="muted"> ({m.home ? 'H' : 'A'})</span>}
            </td>
            <td class="num">
              {m.goalsFor !== undefined && m.goalsFor !== null ? `${m.goalsFor}–${m.goalsAgainst ?? 0}` : m.runs !== undefined ? `${m.runs} r` : '—'}
            </td>
            <td class="num">{typeof m.points === 'number' && (m.status === undefined || m.status === 'finished') ? m.points : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// ---- chart ---------------------------------------------------------------------------------

const GEOM = { width: 640, height: 220, pad: { l: 36, r: 12, t: 12, b: 24 } };
const LINE_COLOURS = ['var(--accent)', 'var(--lead)', 'var(--warn)', 'var(--danger)', 'var(--muted)', 'var(--text)'];
const DASHES = ['', '6 4', '2 4', '10 3 2 3', '1 3', '8 2'];

function ChartCard({ series }: { series: Series | null }) {
  const has = series && series.labels.length > 0 && series.series.length > 0;
  return (
    <section class="card" aria-labelledby="chart-h">
      <h2 id="chart-h">Points over time</h2>
      {!has ? <p class="muted small">The chart starts with the first result.</p> : <Chart s={series!} />}
    </section>
  );
}

function Chart({ s }: { s: Series }) {
  // Drawn at the container's width so the labels keep their size on a phone.
  const box = useRef<HTMLElement>(null);
  const [cw, setCw] = useState(GEOM.width);
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setCw(Math.max(240, Math.round(el.clientWidth))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const geom = { ...GEOM, width: cw, height: cw < 480 ? 180 : GEOM.height };
  const n = s.labels.length;
  const max = niceMax(Math.max(1, ...s.series.flatMap((x) => x.points)));
  const { width: W, height: H, pad } = geom;
  const ticks = [0, max / 2, max];
  const label = (l: string) => {
    if (s.by !== 'date') return l;
    const d = new Date(l + (l.length === 10 ? 'T12:00:00Z' : ''));
    return Number.isNaN(d.getTime()) ? l : dayFmt.format(d);
  };
  const summary = s.series.map((x) => `${x.name} ${x.points[x.points.length - 1] ?? 0}`).join(', ');
  return (
    <figure class="s-chart" ref={box}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Running points per manager over ${n} ${s.by === 'date' ? 'match days' : 'matches'}: ${summary}`}>
        {ticks.map((t) => {
          const y = pad.t + (H - pad.t - pad.b) * (1 - t / max);
          return (
            <g key={t}>
              <line x1={pad.l} x2={W - pad.r} y1={y} y2={y} class="grid" />
              <text x={pad.l - 6} y={y + 4} text-anchor="end" class="tick">
                {Math.round(t)}
              </text>
            </g>
          );
        })}
        {[0, n - 1].filter((v, i, a) => a.indexOf(v) === i).map((i) => {
          const [x] = linePoints([0], 1, 1, geom)[0];
          const xx = n > 1 ? pad.l + (i * (W - pad.l - pad.r)) / (n - 1) : x;
          return (
            <text key={i} x={xx} y={H - 6} text-anchor={n > 1 ? (i === 0 ? 'start' : 'end') : 'middle'} class="tick">
              {label(s.labels[i])}
            </text>
          );
        })}
        {s.series.map((x, k) => {
          const pts = linePoints(x.points, n, max, geom);
          const colour = LINE_COLOURS[k % LINE_COLOURS.length];
          return (
            <g key={x.userId}>
              <polyline points={pts.map((p) => p.join(',')).join(' ')} fill="none" stroke={colour} stroke-width="2.5" stroke-dasharray={DASHES[k % DASHES.length]} stroke-linejoin="round" />
              {pts.length === 1 && <circle cx={pts[0][0]} cy={pts[0][1]} r="4" fill={colour} />}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend small">
          {s.series.map((x, k) => (
            <li key={x.userId}>
              <svg width="24" height="8" aria-hidden="true">
                <line x1="0" x2="24" y1="4" y2="4" stroke={LINE_COLOURS[k % LINE_COLOURS.length]} stroke-width="2.5" stroke-dasharray={DASHES[k % DASHES.length]} />
              </svg>
              {x.name} <span class="num">{x.points[x.points.length - 1] ?? 0}</span>
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

// ---- leaderboard ---------------------------------------------------------------------------

function BoardCard({ board, owners }: { board: BoardItem[]; owners: Map<string, string> }) {
  const [all, setAll] = useState(false);
  const shown = all ? board : board.slice(0, 10);
  return (
    <section class="card" aria-labelledby="board-h">
      <h2 id="board-h">Asset leaderboard</h2>
      {board.length === 0 ? (
        <p class="muted small">No assets yet.</p>
      ) : (
        <>
          <table class="s-table small">
            <thead>
              <tr>
                <th scope="col" class="num">
                  <abbr title="Rank">#</abbr>
                </th>
                <th scope="col">Asset</th>
                <th scope="col">Owner</th>
                <th scope="col" class="num">
                  Pts
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((b) => (
                <tr key={b.assetId}>
                  <td class="num rank">{b.rank}</td>
                  <td>{b.name}</td>
                  <td class={b.ownerId ? undefined : 'muted'}>{b.ownerId ? owners.get(b.ownerId) ?? '—' : 'Unowned'}</td>
                  <td class="num pts">{b.points}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {board.length > 10 && (
            <button class="btn-ghost s-more" onClick={() => setAll(!all)}>
              {all ? 'Show the top 10' : `Show all ${board.length}`}
            </button>
          )}
        </>
      )}
    </section>
  );
}

// ---- fixtures ------------------------------------------------------------------------------

function FixturesCard({ id, fixtures, isComm, onSaved }: { id: string; fixtures: Fixture[]; isComm: boolean; onSaved: () => void }) {
  const groups = groupByRound(fixtures);
  return (
    <section class="card" aria-labelledby="fixtures-h">
      <h2 id="fixtures-h">Fixtures and results</h2>
      {groups.length === 0 && <p class="muted small">No fixtures yet.{isComm ? ' Import them from a CSV file below.' : ''}</p>}
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

const STATUS_LABEL: Record<string, string> = { live: 'Live', postponed: 'Postponed', cancelled: 'Cancelled' };

function FixtureRow({ id, f, isComm, onSaved }: { id: string; f: Fixture; isComm: boolean; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [home, setHome] = useState(f.homeGoals ?? '');
  const [away, setAway] = useState(f.awayGoals ?? '');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const label = `${f.homeName} v ${f.awayName}`;
  const save = async (e: Event) => {
    e.preventDefault();
    const h = String(home).trim();
    const a = String(away).trim();
    if (!/^\d+$/.test(h) || !/^\d+$/.test(a)) {
      setErr('Enter both scores as whole numbers.');
      return;
    }
    setBusy(true);
    setErr('');
    try {
      await seasonApi.saveResult(id, f.id, { homeGoals: Number(h), awayGoals: Number(a), status: 'finished' });
      setEditing(false);
      onSaved();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="s-fixture">
      <div class="s-fx-line">
        <span class="s-team home">{f.homeName}</span>
        <span class={`s-score num${f.homeGoals === null ? ' none' : ''}`}>{scoreText(f)}</span>
        <span class="s-team away">{f.awayName}</span>
      </div>
      <div class="s-fx-meta small muted">
        <time dateTime={f.startsAt}>{when(f.startsAt)}</time>
        {f.venue ? ` · ${f.venue}` : ''}
        {STATUS_LABEL[f.status] ? ` · ${STATUS_LABEL[f.status]}` : ''}
        {isComm && !editing && (
          <button class="linkish s-edit" onClick={() => setEditing(true)}>
            {f.homeGoals === null ? 'Enter result' : 'Correct'}
            <span class="visually-hidden"> of {label}</span>
          </button>
        )}
      </div>
      {editing && (
        <form class="s-result" onSubmit={save} aria-label={`Result of ${label}`}>
          <label>
            <span class="visually-hidden">{f.homeName} goals</span>
            <input type="number" inputMode="numeric" min={0} max={99} value={home} onInput={(e) => setHome((e.target as HTMLInputElement).value)} />
          </label>
          <span aria-hidden="true">–</span>
          <label>
            <span class="visually-hidden">{f.awayName} goals</span>
            <input type="number" inputMode="numeric" min={0} max={99} value={away} onInput={(e) => setAway((e.target as HTMLInputElement).value)} />
          </label>
          <button class="btn-primary" type="submit" disabled={busy}>
            Save
          </button>
          <button class="btn-ghost" type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
          {err && (
            <p class="field-msg s-err" role="alert">
              {err}
            </p>
          )}
        </form>
      )}
    </li>
  );
}

// ---- CSV import ----------------------------------------------------------------------------

function ImportCard({ id, onDone }: { id: string; onDone: () => void }) {
  const [csv, setCsv] = useState('');
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [failed, setFailed] = useState<ImportReport | null>(null);
  const [err, setErr] = useState('');
  const run = async (partial: boolean) => {
    setBusy(true);
    setErr('');
    try {
      const r = await seasonApi.importFixtures(id, csv, partial);
      setReport(r);
      setFailed(null);
      onDone();
    } catch (x) {
      const det = x instanceof ApiError ? x.details : null;
      if (det && Array.isArray(det.errors)) {
        setFailed(det as ImportReport);
        setReport(null);
      } else setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  const onFile = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    setCsv(await file.text());
    setReport(null);
    setFailed(null);
  };
  const good = failed ? goodRowCount(csv, failed.errors) : 0;
  return (
    <section class="card" aria-labelledby="import-h">
      <h2 id="import-h">Import fixtures</h2>
      <p class="small muted">
        CSV with a header row: <code>externalMatchId,startsAt,home,away</code> and optionally <code>venue,round,status,homeGoals,awayGoals</code>. Nothing is written if any row has an error.
      </p>
      <div class="field">
        <label for="csv-file">CSV file</label>
        <input id="csv-file" type="file" accept=".csv,text/csv" onChange={onFile} />
      </div>
      <div class="field">
        <label for="csv-text">Or paste the CSV</label>
        <textarea
          id="csv-text"
          rows={5}
          spellcheck={false}
          value={csv}
          onInput={(e) => {
            setCsv((e.target as HTMLTextAreaElement).value);
            setFailed(null);
            setReport(null);
          }}
        />
      </div>
      <button class="btn-primary" disabled={busy || !csv.trim()} onClick={() => run(false)}>
        Import
      </button>
      {err && <Notice>{err}</Notice>}
      {report && (
        <Notice kind="ok">
          Imported: {report.created} new, {report.updated} updated, {report.skipped} unchanged
          {report.errors.length ? `; ${report.errorCount ?? report.errors.length} ${(report.errorCount ?? report.errors.length) === 1 ? 'row' : 'rows'} left out` : ''}.
        </Notice>
      )}
      {failed && (
        <div class="s-report">
          <Notice kind="warn">
            {failed.errorCount ?? failed.errors.length} {(failed.errorCount ?? failed.errors.length) === 1 ? 'row has' : 'rows have'} a problem. Nothing was imported.
          </Notice>
          <div class="table-wrap">
            <table class="s-table small" data-testid="import-report">
              <caption class="visually-hidden">Rows with a problem</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    Line
                  </th>
                  <th scope="col">Code</th>
                  <th scope="col">Problem</th>
                </tr>
              </thead>
              <tbody>
                {failed.errors.map((e, i) => (
                  <tr key={i}>
                    <td class="num">{e.line}</td>
                    <td>
                      <code>{e.code}</code>
                    </td>
                    <td>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {good > 0 && (
            <button class="btn-primary" disabled={busy} onClick={() => run(true)}>
              Import the {good} good {good === 1 ? 'row' : 'rows'}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

// ---- scoring rules -------------------------------------------------------------------------

const DEFAULTS: Record<string, Record<string, number>> = {
  football: { win: 3, draw: 1, loss: 0, goal: 1 },
  cricket: { run: 1, wicket: 20, catch: 10, stumping: 25, runOut: 20 },
};
const RULE_LABEL: Record<string, string> = {
  win: 'Win',
  draw: 'Draw',
  loss: 'Loss',
  goal: 'Per goal scored',
  run: 'Per run',
  wicket: 'Per wicket',
  catch: 'Per catch',
  stumping: 'Per stumping',
  runOut: 'Per run-out',
};

function ScoringCard({ id, onSaved }: { id: string; onSaved: () => void }) {
  const r = useLoad<Scoring>(() => seasonApi.scoring(id), [id]);
  const [vals, setVals] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  useEffect(() => {
    if (r.data) setVals(Object.fromEntries(Object.entries(r.data.rules).map(([k, v]) => [k, String(v)])));
  }, [r.data]);
  if (r.loading && !r.data) return null;
  if (!r.data) return null;
  const defs = DEFAULTS[r.data.sport] ?? {};
  const save = async (e: Event) => {
    e.preventDefault();
    const rules: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(vals)) {
      const t = v.trim();
      if (t === '') rules[k] = null;
      else if (!/^\d+$/.test(t)) {
        setMsg({ kind: 'error', text: `${RULE_LABEL[k] ?? k}: enter a whole number of 0 or more.` });
        return;
      } else if (Number(t) !== r.data!.rules[k]) rules[k] = Number(t);
    }
    // Only the changes: a value equal to the default is stored by the server as no override.
    if (Object.keys(rules).length === 0) {
      setMsg({ kind: 'ok', text: 'Nothing to change.' });
      return;
    }
    setBusy(true);
    setMsg(null);
    try {
      const s = await seasonApi.saveScoring(id, { rules });
      r.set(s);
      setMsg({ kind: 'ok', text: 'Saved. The table is re-scored.' });
      onSaved();
    } catch (x) {
      setMsg({ kind: 'error', text: errorText(x) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="scoring-h">
      <h2 id="scoring-h">Scoring rules</h2>
      <form onSubmit={save}>
        <div class="s-rules">
          {Object.keys(vals).map((k) => (
            <div class="field" key={k}>
              <label for={`rule-${k}`}>{RULE_LABEL[k] ?? k}</label>
              <input
                id={`rule-${k}`}
                type="number"
                inputMode="numeric"
                min={0}
                value={vals[k]}
                aria-describedby={`rule-${k}-d`}
                onInput={(e) => setVals({ ...vals, [k]: (e.target as HTMLInputElement).value })}
              />
              <p class="field-msg muted" id={`rule-${k}-d`}>
                {defs[k] !== undefined ? `Default ${defs[k]}` : ''}
              </p>
            </div>
          ))}
        </div>
        <div class="row">
          <button class="btn-primary" type="submit" disabled={busy}>
            Save rules
          </button>
          <button
            class="btn-ghost"
            type="button"
            onClick={() => setVals(Object.fromEntries(Object.keys(vals).map((k) => [k, defs[k] !== undefined ? String(defs[k]) : vals[k]])))}
          >
            Back to defaults
          </button>
        </div>
        {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      </form>
    </section>
  );
}
