// The season page end to end against the real server: a league whose auction is finished through
// the API (2 managers, one asset each), then the commissioner in the browser imports a fixtures
// CSV with one bad row, reads the per-row report, imports the good rows, sees the table with the
// points computed here from the rows (win 3, draw 1, loss 0, +1 per goal), enters a result and
// sees the table change. Axe (no serious/critical, light and dark) and screenshots at 360 and
// 1280 (web/test-results/screens/season-*.png).
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiAs, axeClean, signIn, type ApiUser } from './helpers';
import { startServer, type RunningServer } from './server';

const here = dirname(fileURLToPath(import.meta.url));
const SHOTS = join(here, '..', 'test-results', 'screens');
mkdirSync(SHOTS, { recursive: true });
const M = 1_000_000;

let srv: RunningServer;
test.beforeAll(async () => {
  srv = await startServer();
});
test.afterAll(async () => {
  await srv?.stop();
});

async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.setViewportSize({ width: 360, height: 740 });
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth), { message: `${name} fits 360 px` }).toBeLessThanOrEqual(360);
  await page.screenshot({ path: join(SHOTS, `season-${name}-360.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SHOTS, `season-${name}-1280.png`), fullPage: true });
}

interface Row {
  id: string;
  startsAt: string;
  home: string;
  away: string;
  round: number;
  hg: number | null;
  ag: number | null;
}

/** Football points of `club` over finished rows: win 3, draw 1, loss 0, +1 per goal scored. */
function pointsOf(rows: Row[], club: string): number {
  let p = 0;
  for (const r of rows) {
    if (r.hg === null || r.ag === null) continue;
    const mine = r.home === club ? r.hg : r.away === club ? r.ag : null;
    if (mine === null) continue;
    const theirs = r.home === club ? r.ag : r.hg;
    p += (mine > theirs ? 3 : mine === theirs ? 1 : 0) + mine;
  }
  return p;
}

async function setUpLeague(alice: ApiUser, bob: ApiUser): Promise<{ leagueId: string; names: string[] }> {
  const league = await alice.call('POST', '/api/leagues', {
    name: 'Season League',
    sport: 'football',
    competition: 'EPL-2025',
    budget: 40 * M,
    rosterSize: 1,
    minBid: 1 * M,
    minIncrement: 1 * M,
    lotSeconds: 30,
    antiSnipeSeconds: 5,
    intermissionSeconds: 0,
    lotOrder: 'fixed',
    reofferUnsold: 0,
  });
  await bob.call('POST', `/api/invites/${league.inviteCode}/join`);
  const assets = await alice.call('GET', '/api/assets?sport=football&competition=EPL-2025&limit=6');
  const ids: string[] = assets.items.map((a: any) => a.id);
  const names: string[] = assets.items.map((a: any) => a.name);
  await alice.call('PUT', `/api/leagues/${league.id}/assets`, { assetIds: ids.slice(0, 2) });
  const auction = await alice.call('POST', `/api/leagues/${league.id}/auction`);
  const AID = auction.id as string;
  await alice.call('POST', `/api/auctions/${AID}/begin`);
  for (const [who, tag] of [
    [alice, 'a'],
    [bob, 'b'],
  ] as const) {
    let st = await alice.call('GET', `/api/auctions/${AID}`);
    for (let i = 0; i < 100 && st.lot?.state !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      st = await alice.call('GET', `/api/auctions/${AID}`);
    }
    expect(st.lot?.state).toBe('running');
    await who.call('POST', `/api/auctions/${AID}/bids`, { lot: st.lot.number, amount: 1 * M, clientBidId: 'bid-' + tag });
    await alice.call('POST', `/api/auctions/${AID}/close-lot`);
  }
  await expect.poll(async () => (await alice.call('GET', `/api/auctions/${AID}`)).status).toBe('completed');
  return { leagueId: league.id, names };
}

test('season: import with a bad row, the report, the good rows, the table, a result', async ({ browser }) => {
  const alice = await apiAs(srv.url, 'alice@example.com');
  await alice.call('PATCH', '/api/me', { name: 'Alice' });
  const bob = await apiAs(srv.url, 'bob@example.com');
  await bob.call('PATCH', '/api/me', { name: 'Bob' });
  const { leagueId, names } = await setUpLeague(alice, bob);
  const [A, B, C, D] = names; // Alice won A, Bob won B.

  const rows: Row[] = [
    { id: 'e2e-1', startsAt: '2026-11-21T15:00:00Z', home: A, away: B, round: 1, hg: 2, ag: 1 },
    { id: 'e2e-2', startsAt: '2026-11-21T17:30:00Z', home: C, away: D, round: 1, hg: 0, ag: 0 },
    { id: 'e2e-3', startsAt: '2026-11-28T15:00:00Z', home: A, away: C, round: 2, hg: 1, ag: 1 },
    { id: 'e2e-4', startsAt: '2026-11-28T15:00:00Z', home: D, away: B, round: 2, hg: 0, ag: 3 },
    { id: 'e2e-5', startsAt: '2026-11-30T20:00:00Z', home: B, away: A, round: 3, hg: null, ag: null },
  ];
  const line = (r: Row) => [r.id, r.startsAt, r.home, r.away, r.round, r.hg ?? '', r.ag ?? ''].join(',');
  const csv = [
    'externalMatchId,startsAt,home,away,round,homeGoals,awayGoals',
    line(rows[0]),
    line(rows[1]),
    line(rows[2]),
    'e2e-bad,2026-11-28T15:00:00Z,Nowhere Rovers,' + B + ',2,1,0',
    line(rows[3]),
    line(rows[4]),
  ].join('\n');

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => {
    throw new Error('page error: ' + e.message);
  });
  await signIn(page, srv.url, 'alice@example.com');

  // From the league page to the season page.
  await page.goto(`${srv.url}/leagues/${leagueId}`);
  await page.getByRole('link', { name: 'Season: table and fixtures' }).click();
  await expect(page).toHaveURL(new RegExp(`/leagues/${leagueId}/season$`));
  await expect(page.getByRole('heading', { name: 'Season', level: 1 })).toBeVisible();
  await expect(page.getByText('No fixtures yet.')).toBeVisible();
  await expect(page.getByTestId('points-Alice')).toHaveText('0');

  // All-or-nothing first: the report names the bad line, nothing is written.
  await page.getByLabel('Or paste the CSV').fill(csv);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const report = page.getByTestId('import-report');
  await expect(report).toBeVisible();
  await expect(report.locator('tbody tr')).toHaveCount(1);
  await expect(report.locator('tbody tr td').first()).toHaveText('5');
  await expect(page.getByText('Nothing was imported.')).toBeVisible();
  expect((await alice.call('GET', `/api/leagues/${leagueId}/fixtures`)).items).toHaveLength(0);
  await axeClean(page, 'season-report');
  await shoot(page, 'report');

  // Then the good rows.
  await page.getByRole('button', { name: 'Import the 5 good rows' }).click();
  await expect(page.getByText('Imported: 5 new')).toBeVisible();
  await expect(page.getByTestId('points-Alice')).toHaveText(String(pointsOf(rows, A)));
  await expect(page.getByTestId('points-Bob')).toHaveText(String(pointsOf(rows, B)));
  await expect(page.getByRole('heading', { name: 'Round 3' })).toBeVisible();

  // An asset's match history, inline.
  await page.getByRole('button', { name: 'Alice' }).click();
  await page.getByRole('button', { name: A, exact: true }).click();
  await expect(page.getByRole('table', { name: `Matches of ${A}` }).locator('tbody tr')).toHaveCount(3);
  await axeClean(page, 'season-table');
  await shoot(page, 'table');

  // A result entered in the browser changes the table.
  await page.getByRole('button', { name: `Enter result of ${B} v ${A}` }).click();
  await page.getByLabel(`${B} goals`).fill('2');
  await page.getByLabel(`${A} goals`).fill('0');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  rows[4].hg = 2;
  rows[4].ag = 0;
  await expect(page.getByTestId('points-Bob')).toHaveText(String(pointsOf(rows, B)));
  await expect(page.getByTestId('points-Alice')).toHaveText(String(pointsOf(rows, A)));
  const st = await alice.call('GET', `/api/leagues/${leagueId}/standings`);
  expect(st.items[0]).toMatchObject({ name: 'Bob', rank: 1, points: pointsOf(rows, B) });

  // The scoring rules: defaults shown; a change re-scores the table.
  await expect(page.getByLabel('Win')).toHaveValue('3');
  await page.getByLabel('Win').fill('5');
  await page.getByRole('button', { name: 'Save rules' }).click();
  await expect(page.getByText('Saved. The table is re-scored.')).toBeVisible();
  const wins = (club: string) =>
    rows.filter((r) => r.hg !== null && r.ag !== null && ((r.home === club && r.hg > r.ag!) || (r.away === club && r.ag! > r.hg))).length;
  await expect(page.getByTestId('points-Bob')).toHaveText(String(pointsOf(rows, B) + 2 * wins(B)));
  await axeClean(page, 'season-result');
  await shoot(page, 'result');
  await ctx.close();
});
