// The points-over-time card: uPlot (loaded on demand, its own chunk) draws the lines; the legend,
// a one-sentence summary and a data table (for screen readers) are plain DOM.
import { useEffect, useRef, useState } from 'preact/hooks';
import { reportClientError } from '../../api/client';
import type { Series } from './api';
import { DASHES, LINE_TOKENS, chartSummary, pointLabel } from './chart';
import type { ChartHandle } from './uplotChart';

export function ChartCard({ series, meId }: { series: Series | null; meId: string | null }) {
  const has = !!series && series.labels.length > 0 && series.series.length > 0;
  return (
    <section class="card" aria-labelledby="chart-h">
      <h2 id="chart-h">Points over time</h2>
      {has ? <Chart s={series!} meId={meId} /> : <p class="muted small">The chart starts with the first result.</p>}
    </section>
  );
}

function Chart({ s, meId }: { s: Series; meId: string | null }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<ChartHandle | null>(null);
  const latest = useRef(s);
  latest.current = s;
  const [hover, setHover] = useState<number | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let live = true;
    let ro: ResizeObserver | null = null;
    const size = () => ({ width: Math.max(200, Math.floor(el.clientWidth)), height: Math.max(120, Math.floor(el.clientHeight)) });
    import('./uplotChart').then(
      (m) => {
        if (!live) return;
        chart.current = m.drawChart(el, latest.current, { ...size(), meId, onHover: setHover });
        if (typeof ResizeObserver !== 'undefined') {
          ro = new ResizeObserver(() => {
            const z = size();
            chart.current?.setSize(z.width, z.height);
          });
          ro.observe(el);
        }
      },
      (e: unknown) => {
        reportClientError('chunk', String((e as Error)?.message ?? e));
        if (live) setFailed(true);
      },
    );
    return () => {
      live = false;
      ro?.disconnect();
      chart.current?.destroy();
      chart.current = null;
    };
  }, [meId]);
  useEffect(() => {
    chart.current?.setData(s);
    setHover(null);
  }, [s]);

  const summary = chartSummary(s);
  const at = hover !== null && hover < s.labels.length ? hover : null;
  const unit = s.by === 'date' ? 'match day' : 'match';
  return (
    <figure class="s-chart" aria-labelledby="chart-h">
      <div ref={box} class="s-chart-plot" role="img" aria-label="Line chart of each manager’s running points" aria-describedby="chart-sum" data-testid="points-chart" />
      {failed && <p class="small muted">The chart did not load; the totals are below.</p>}
      <figcaption>
        <p class="visually-hidden" id="chart-sum">
          {summary}
        </p>
        <p class="s-chart-at small muted" aria-hidden="true">
          Totals after {pointLabel(s, at ?? s.labels.length - 1)}
        </p>
        <ul class="legend small" aria-label="Managers’ totals">
          {s.series.map((x, k) => (
            <li key={x.userId} class={x.userId === meId ? 'me' : undefined}>
              <svg width="28" height="10" aria-hidden="true">
                <line
                  x1="1"
                  x2="27"
                  y1="5"
                  y2="5"
                  stroke={`var(${LINE_TOKENS[k % LINE_TOKENS.length]})`}
                  stroke-width={x.userId === meId ? 3.5 : 2.5}
                  stroke-dasharray={DASHES[k % DASHES.length].join(' ')}
                />
              </svg>
              <span>{x.name}</span>
              <span class="num">{(at === null ? x.points[x.points.length - 1] : x.points[at]) ?? 0}</span>
            </li>
          ))}
        </ul>
      </figcaption>
      {/* In a hidden box: a table is as wide as its columns whatever its own width says. */}
      <div class="visually-hidden">
      <table>
        <caption>Running points after each {unit}</caption>
        <thead>
          <tr>
            <th scope="col">Manager</th>
            {s.labels.map((_, i) => (
              <th scope="col" key={i}>
                {pointLabel(s, i)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {s.series.map((x) => (
            <tr key={x.userId}>
              <th scope="row">{x.name}</th>
              {s.labels.map((_, i) => (
                <td key={i}>{x.points[i] ?? ''}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}
