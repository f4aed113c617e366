// CSV import of fixtures, or of a cricket league's match stats (commissioner). The first try is
// all-or-nothing: a file with a bad row writes nothing and its per-row report is shown; the
// commissioner then confirms importing the good rows (or fixes the file).
import { useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { Notice, errorText } from '../../components/ui';
import { seasonApi, type ImportReport } from './api';
import { csvRowCount, goodRowCount } from './season';

/** Codes that refuse the whole file (whatever `partial` says): no row report to act on. */
const FILE_CODES = new Set(['missing_column', 'unknown_column', 'duplicate_column', 'missing_header', 'invalid_csv']);

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function ReportTable({ report, caption, testid }: { report: ImportReport; caption: string; testid: string }) {
  return (
    <div class="table-wrap">
      <table class="s-table small" data-testid={testid}>
        <caption class="visually-hidden">{caption}</caption>
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
          {report.errors.map((e, i) => (
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
  );
}

/** What a league imports: fixtures (football), the players' match stats (cricket). */
const KINDS = {
  fixtures: {
    title: 'Import fixtures',
    required: 'externalMatchId,startsAt,home,away',
    optional: 'venue,round,status,homeGoals,awayGoals',
  },
  stats: {
    title: 'Import match stats',
    required: 'externalMatchId,player,runs,wickets,catches,stumpings,runOuts',
    optional: '',
  },
} as const;

export function ImportCard({ id, what, onDone }: { id: string; what: 'fixtures' | 'stats'; onDone: () => void }) {
  const kind = KINDS[what];
  const [csv, setCsv] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [failed, setFailed] = useState<ImportReport | null>(null);
  const [err, setErr] = useState('');
  const reset = () => {
    setReport(null);
    setFailed(null);
    setErr('');
  };
  const run = async (partial: boolean) => {
    setBusy(true);
    setErr('');
    try {
      const r = await seasonApi.importCsv(id, what, csv, partial);
      setReport(r);
      setFailed(null);
      onDone();
    } catch (x) {
      const det = x instanceof ApiError ? x.details : null;
      const rowErrors = det && Array.isArray(det.errors) && det.errors.length > 0 && !det.errors.some((r: { code: string }) => FILE_CODES.has(r.code));
      if (rowErrors) {
        setFailed(det as ImportReport);
        setReport(null);
      } else {
        setErr(errorText(x));
        setFailed(null);
      }
    } finally {
      setBusy(false);
    }
  };
  const onFile = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    setCsv(await file.text());
    setFileName(file.name);
    reset();
  };
  const good = failed ? goodRowCount(csv, failed.errors) : 0;
  const bad = failed ? failed.errorCount ?? failed.errors.length : 0;
  const rows = csvRowCount(csv);
  return (
    <section class="card" aria-labelledby="import-h">
      <h2 id="import-h">{kind.title}</h2>
      <p class="small muted">
        CSV with a header row: <code>{kind.required}</code>
        {kind.optional && (
          <>
            {' '}
            and optionally <code>{kind.optional}</code>
          </>
        )}
        . Nothing is written while any row has a problem: you see each one first.
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
          aria-describedby="csv-count"
          onInput={(e) => {
            setCsv((e.target as HTMLTextAreaElement).value);
            setFileName(null);
            reset();
          }}
        />
        <p class="field-msg muted" id="csv-count">
          {csv.trim() ? `${fileName ? fileName + ': ' : ''}${plural(rows, 'row', 'rows')} below the header.` : ' '}
        </p>
      </div>
      <div class="s-form-actions">
        <button class="btn-primary" disabled={busy || !csv.trim()} onClick={() => run(false)}>
          {busy && !failed ? 'Checking…' : 'Import'}
        </button>
      </div>
      {err && <Notice>{err}</Notice>}
      {report && (
        <div class="s-report">
          <Notice kind="ok">
            Imported: {report.created} new, {report.updated} updated, {report.skipped} unchanged
            {report.errors.length ? `; ${plural(report.errorCount ?? report.errors.length, 'row', 'rows')} left out` : ''}.
          </Notice>
          {report.errors.length > 0 && <ReportTable report={report} caption="Rows left out" testid="import-left-out" />}
        </div>
      )}
      {failed && (
        <div class="s-report">
          <Notice kind="warn">
            {bad} {bad === 1 ? 'row has' : 'rows have'} a problem. Nothing was imported.
          </Notice>
          <ReportTable report={failed} caption="Rows with a problem" testid="import-report" />
          {good > 0 ? (
            <div class="s-form-actions">
              <button class="btn-primary" disabled={busy} onClick={() => run(true)}>
                {busy ? 'Importing…' : `Import the ${plural(good, 'good row', 'good rows')}`}
              </button>
              <button type="button" disabled={busy} onClick={reset}>
                Cancel
              </button>
            </div>
          ) : (
            <p class="small muted">No row can be imported as it is: fix the file and try again.</p>
          )}
        </div>
      )}
    </section>
  );
}
