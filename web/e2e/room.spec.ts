// The auction room end to end, against the real server: three browser contexts (commissioner +
// two managers), a spectator and the big screen; bid war with anti-snipe, double tap, pause,
// close lot, undo, reconnect, completion, results + CSV, screenshots, axe, paint latency.
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from './server';
import { apiAs, axeClean, signIn, type ApiUser } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const SHOTS = join(here, '..', 'test-results', 'screens');
mkdirSync(SHOTS, { recursive: true });

test.describe.configure({ mode: 'serial' });
// Five live pages on a 2-core box: tracing them (screencast + snapshots) slows each step by
// seconds, longer than a lot's clock. The failure screenshots and the diag() output remain.
test.use({ trace: 'off' });
test.setTimeout(300_000);

let srv: RunningServer;
test.beforeAll(async () => {
  srv = await startServer();
});
test.afterAll(async () => {
  await srv?.stop();
});

interface Player {
  email: string;
  name: string;
  ctx: BrowserContext;
  page: Page;
  api: ApiUser;
}

async function player(browser: Browser, email: string, name: string): Promise<Player> {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 1, hasTouch: false });
  const page = await ctx.newPage();
  await signIn(page, srv.url, email, name);
  const api = await apiAs(srv.url, email);
  return { email, name, ctx, page, api };
}

/** A screenshot at 360×740 and one at 1280×800 of the same state. */
async function shoot(page: Page, name: string): Promise<void> {
  const vp = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: join(SHOTS, `${name}-360.png`), animations: 'disabled' });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SHOTS, `${name}-1280.png`), animations: 'disabled' });
  if (vp) await page.setViewportSize(vp);
}

const price = (p: Page) => p.getByTestId('price');
const bidMain = (p: Page) => p.getByTestId('bid-main');
const M = 1_000_000;
const money = (u: number) => `£${u / M}m`;

/** What the page holds of the auction, next to the server's state: they must be equal. */
async function expectServerState(page: Page, api: ApiUser, aid: string, label: string): Promise<void> {
  const pick = (a: any) => ({
    status: a.status,
    seq: a.seq,
    progress: a.progress,
    completedReason: a.completedReason,
    lot: a.lot && { number: a.lot.number, state: a.lot.state, currentBid: a.lot.currentBid, leaderId: a.lot.leaderId },
    managers: a.managers.map((m: any) => ({ userId: m.userId, budgetRemaining: m.budgetRemaining, maxBid: m.maxBid, emptySlots: m.emptySlots, roster: m.roster })),
  });
  await expect
    .poll(async () => {
      const mine = await page.evaluate(() => (window as any).__gavelRoom?.model.value?.auction ?? null);
      const server = await api.call('GET', `/api/auctions/${aid}`);
      return JSON.stringify(mine && pick(mine)) === JSON.stringify(pick(server)) ? 'same' : JSON.stringify({ mine: mine && pick(mine), server: pick(server) });
    }, { message: `${label}: the page holds the server's state` })
    .toBe('same');
}

/** What a page knows about its connection and state (printed when an expectation fails). */
async function diag(page: Page): Promise<string> {
  return page.evaluate(() => {
    const w = window as any;
    const a = w.__gavelRoom?.model.value?.auction;
    return JSON.stringify({ conn: w.__gavelConnLog, seq: a?.seq, status: a?.status, lot: a?.lot?.number, bid: a?.lot?.currentBid });
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

test('a whole auction through the UI from three browsers, a spectator and the big screen', async ({ browser }) => {
  const cara = await player(browser, 'cara@example.com', 'Cara');
  const ann = await player(browser, 'ann@example.com', 'Ann');
  const ben = await player(browser, 'ben@example.com', 'Ben');
  const all = [cara, ann, ben];

  // League set up fast through the API: small clocks so the test is quick.
  const league = await cara.api.call('POST', '/api/leagues', {
    name: 'Friday Draft',
    sport: 'football',
    competition: 'EPL-2025',
    budget: 40 * M,
    rosterSize: 2,
    minBid: 1 * M,
    minIncrement: 1 * M,
    lotSeconds: 20,
    antiSnipeSeconds: 5,
    intermissionSeconds: 3,
    lotOrder: 'fixed',
    reofferUnsold: 0,
  });
  await ann.api.call('POST', `/api/invites/${league.inviteCode}/join`);
  await ben.api.call('POST', `/api/invites/${league.inviteCode}/join`);
  const assets = await cara.api.call('GET', '/api/assets?sport=football&competition=EPL-2025&limit=8');
  const ids: string[] = assets.items.map((a: any) => a.id);
  const names: string[] = assets.items.map((a: any) => a.name);
  await cara.api.call('PUT', `/api/leagues/${league.id}/assets`, { assetIds: ids });
  const auction = await cara.api.call('POST', `/api/leagues/${league.id}/auction`);
  const AID = auction.id as string;
  const state = () => cara.api.call('GET', `/api/auctions/${AID}`);
  const bids = (lot: number) => cara.api.call('GET', `/api/auctions/${AID}/bids?lot=${lot}`);

  for (const p of all) await p.page.goto(`${srv.url}/auctions/${AID}`);

  // Lobby: everyone sees everyone online, live.
  for (const p of all) {
    await expect(p.page.getByTestId('conn')).toHaveText(/Live/);
    await expect(p.page.locator('[data-testid=presence] li.on')).toHaveCount(3);
  }
  await shoot(ann.page, 'lobby');
  await axeClean(ann.page, 'lobby', null);

  // A spectator by watch code, and the big screen.
  const dee = await player(browser, 'dee@example.com', 'Dee');
  await dee.api.call('POST', `/api/watch/${league.watchCode}`);
  await dee.page.goto(`${srv.url}/auctions/${AID}`);
  await expect(dee.page.getByTestId('conn')).toHaveText(/Live/);
  const tv = await dee.ctx.newPage();
  await tv.setViewportSize({ width: 1280, height: 720 });
  await tv.goto(`${srv.url}/auctions/${AID}/tv`);

  // Begin.
  await cara.page.getByRole('button', { name: 'Begin auction' }).click();
  for (const p of [...all, dee]) await expect(p.page.getByTestId('lot-name')).toHaveText(names[0]);
  await expect(tv.getByRole('heading', { name: names[0] })).toBeVisible();

  const tBegin = Date.now();
  const lap = (what: string) => console.log(`  +${((Date.now() - tBegin) / 1000).toFixed(1)} s ${what}`);
  // Spectator: everything visible, no bid control.
  await expect(price(dee.page)).toHaveText(money(1 * M));
  await expect(bidMain(dee.page)).toHaveCount(0);
  await expect(dee.page.getByText('You are watching. Only managers can bid.')).toBeVisible();

  // ---- lot 1: a bid war with anti-snipe -------------------------------------------------------
  await expect(bidMain(ann.page)).toHaveText('Bid £1m');
  await bidMain(ann.page).click();
  await expect(bidMain(ann.page)).toHaveText('You lead');
  await expect(ben.page.getByTestId('leader-line'), await diag(ben.page)).toContainText('Ann leads');
  lap('Ann leads everywhere');
  await shoot(ann.page, 'live-leading');
  lap('leading screenshots');
  await expect(bidMain(ben.page)).toHaveText('Bid £2m');
  await bidMain(ben.page).click();
  await expect(ann.page.getByTestId('assertive')).toHaveText('Outbid: Ben bid £2m');
  await expect(bidMain(ann.page)).toHaveText('Bid £3m');
  lap('Ann outbid');
  await shoot(ann.page, 'live-outbid');
  lap('outbid screenshots');

  // Wait for the last seconds (the clock turns amber at 5 s), then bid: the clock goes back up.
  await expect(ann.page.locator('[data-testid=clock].clock-warn, [data-testid=clock].clock-danger')).toBeVisible({ timeout: 30_000 });
  const before = await state();
  expect(before.lot.number).toBe(1);
  const leftBefore = before.lot.endsAtMs - before.serverTimeMs;
  expect(leftBefore).toBeLessThanOrEqual(5000);
  await bidMain(ann.page).click();
  await expect(bidMain(ann.page)).toHaveText('You lead');
  await expect(ann.page.getByTestId('antisnipe'), JSON.stringify(await ann.page.evaluate(() => (window as any).__gavelRoom?.model.value?.lastBid))).toBeVisible();
  const after = await state();
  expect(after.lot.endsAtMs).toBeGreaterThan(before.lot.endsAtMs);
  const snipeBid = (await bids(1)).items.at(-1);
  expect(snipeBid.userId).toBe(ann.api.user.id);
  expect(snipeBid.atMs - before.serverTimeMs).toBeLessThan(leftBefore); // placed with < 5 s left…
  expect(after.lot.endsAtMs).toBe(snipeBid.atMs + 5000); // …so the clock was reset to 5 s
  await expect(ben.page.getByTestId('antisnipe')).toBeVisible();

  // Paint latency: a quick bid war between Ann and Ben (each bids as soon as the button offers it).
  for (const p of all) await p.page.evaluate(() => ((window as any).__gavelPaint = { dom: [], frame: [] }));
  await tv.evaluate(() => ((window as any).__gavelPaint = { dom: [], frame: [] }));
  // Ben bids with the keyboard (Enter bids the next minimum), Ann with taps.
  await ben.page.locator('body').click({ position: { x: 5, y: 200 } });
  for (let i = 0; i < 24; i++) {
    const p = i % 2 === 0 ? ben : ann;
    await expect(bidMain(p.page)).toHaveText(/^Bid £/);
    if (p === ben) {
      await ben.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await ben.page.keyboard.press('Enter');
    } else await bidMain(p.page).click();
    await expect(bidMain(p.page)).toHaveText('You lead');
  }
  // Paint latency samples from every page that saw the war.
  const samples = { dom: [] as number[], frame: [] as number[] };
  for (const pg of [...all.map((p) => p.page), tv]) {
    const s2 = await pg.evaluate(() => (window as any).__gavelPaint ?? { dom: [], frame: [] });
    samples.dom.push(...s2.dom);
    samples.frame.push(...s2.frame);
  }
  console.log(
    `paint latency over ${samples.frame.length} bid events: socket→DOM p50 ${pct(samples.dom, 50).toFixed(2)} ms p99 ${pct(samples.dom, 99).toFixed(2)} ms; ` +
      `socket→next frame p50 ${pct(samples.frame, 50).toFixed(2)} ms p95 ${pct(samples.frame, 95).toFixed(2)} ms p99 ${pct(samples.frame, 99).toFixed(2)} ms; ` +
      `DOM p95 ${pct(samples.dom, 95).toFixed(2)} ms`,
  );
  expect(samples.frame.length).toBeGreaterThanOrEqual(80);
  // Our work (socket frame → price in the DOM) must fit a frame; the frame itself then comes at the
  // display's next vsync (≤ 16.7 ms later), so "painted" is bounded by two frames on a busy CI box.
  expect.soft(pct(samples.dom, 95), 'socket → DOM updated, p95').toBeLessThanOrEqual(16);
  expect.soft(pct(samples.frame, 50), 'socket → next frame, p50').toBeLessThanOrEqual(33);
  for (const p of [...all, dee]) console.log(p.name, 'conn log:', (await p.page.evaluate(() => (window as any).__gavelConnLog ?? [])).join(' | '));

  const lot1 = (await state()).lot; // no bid follows: this is how lot 1 ends
  // Ben, outbid, in the last seconds (red): the tense moment.
  await expect(ben.page.locator('[data-testid=clock].clock-danger')).toBeVisible({ timeout: 30_000 });
  await shoot(ben.page, 'live-last-seconds');
  // Let the lot close by itself: intermission shows the sale everywhere.
  const winner1 = lot1.leaderName as string;
  for (const p of all) await expect(p.page.getByTestId('sold-line')).toContainText(`for ${money(lot1.currentBid)}`, { timeout: 30_000 });
  await expect(ben.page.getByTestId('sold-line')).toContainText(winner1 === 'Ben' ? 'Sold to you' : `Sold to ${winner1}`);
  await shoot(ben.page, 'live-intermission');
  const hist1 = await bids(1);
  expect(hist1.items.length).toBe(27);

  // ---- lot 2: a double tap places exactly one bid ------------------------------------------------
  for (const p of all) await expect(p.page.getByTestId('lot-name')).toHaveText(names[1]);
  await expect(bidMain(ann.page)).toHaveText('Bid £1m');
  await ann.page.evaluate(() => {
    const b = document.querySelector<HTMLButtonElement>('[data-testid=bid-main]')!;
    b.click();
    b.click();
  });
  await bidMain(ann.page).dblclick({ force: true }).catch(() => undefined);
  await expect(bidMain(ann.page)).toHaveText('You lead');
  await expect.poll(async () => (await bids(2)).items.length).toBe(1);
  await expect(ann.page.locator('[data-testid=history] li')).toHaveCount(1);

  // Pause: the clock freezes everywhere with the commissioner's words; resume restores it.
  await cara.page.getByRole('button', { name: 'Pause' }).click();
  for (const p of all) await expect(p.page.getByText('Paused by the commissioner').first()).toBeVisible();
  const frozen = await ben.page.locator('[data-testid=clock] .clock-digits').textContent();
  await ben.page.waitForTimeout(1200); // the frozen clock must not move over a second
  await expect(ben.page.locator('[data-testid=clock] .clock-digits')).toHaveText(frozen!);
  await expect(bidMain(ben.page)).toBeDisabled();
  await shoot(ben.page, 'live-paused');
  await axeClean(ben.page, 'live room (paused)', null);
  await ben.page.emulateMedia({ colorScheme: 'dark' });
  await shoot(ben.page, 'live-paused-dark');
  await axeClean(ben.page, 'live room (paused, dark)', null);
  await ben.page.emulateMedia({ colorScheme: 'light' });
  await shoot(cara.page, 'commissioner-paused');
  await cara.page.getByRole('button', { name: 'Resume' }).click();
  await expect(ben.page.getByTestId('clock')).toHaveAttribute('data-phase', 'running');

  // Close the lot now (behind a confirmation): sold to Ann for £1m.
  await cara.page.getByRole('button', { name: 'Close lot' }).click();
  await cara.page.getByRole('dialog').getByRole('button', { name: 'Close lot' }).click();
  for (const p of all) await expect(p.page.getByTestId('sold-line')).toContainText('£1m');
  const annId = ann.api.user.id;
  await expect.poll(async () => (await state()).managers.find((m: any) => m.userId === annId).roster.length).toBe(winner1 === 'Ann' ? 2 : 1);

  // Undo (while paused, confirmed): Ann is refunded; the asset comes back as the next lot.
  for (const p of all) await expect(p.page.getByTestId('lot-name')).toHaveText(names[2], { timeout: 10_000 });
  await cara.page.getByRole('button', { name: 'Pause' }).click();
  await expect(cara.page.getByRole('button', { name: 'Undo last sale' })).toBeEnabled();
  await cara.page.getByRole('button', { name: 'Undo last sale' }).click();
  await cara.page.getByRole('dialog').getByRole('button', { name: 'Undo last sale' }).click();
  await expect.poll(async () => (await state()).managers.find((m: any) => m.userId === annId).roster.length).toBe(winner1 === 'Ann' ? 1 : 0);
  await cara.page.getByRole('button', { name: 'Resume' }).click();
  for (const p of all) await expect(p.page.getByTestId('lot-name')).toHaveText(names[1]);
  const lotAfterUndo = (await state()).lot.number;
  expect(lotAfterUndo).toBeGreaterThan(2);

  // ---- reconnect: Ann drops mid-lot, the others bid on, Ann comes back to the exact state -----
  await bidMain(ben.page).click();
  await expect(bidMain(ben.page)).toHaveText('You lead');
  await ann.ctx.setOffline(true);
  await expect(ann.page.getByTestId('conn')).toHaveText(/Offline|Reconnecting/);
  await expect(ann.page.locator('.price-panel.is-stale')).toBeVisible();
  await shoot(ann.page, 'live-reconnecting');
  await bidMain(cara.page).click();
  await expect(bidMain(cara.page)).toHaveText('You lead');
  // Ben types an amount in the short form: too low first (explained), then £12.5m.
  await ben.page.getByRole('button', { name: 'Type an amount' }).click();
  await ben.page.getByLabel('Your bid').fill('1m');
  await ben.page.getByLabel('Your bid').press('Enter');
  await expect(ben.page.getByRole('alert').filter({ hasText: 'The next bid must be at least' })).toBeVisible();
  await ben.page.getByLabel('Your bid').fill('12.5m');
  await ben.page.getByLabel('Your bid').press('Enter');
  await expect(bidMain(ben.page)).toHaveText('You lead');
  await expect(price(cara.page)).toHaveText('£12.5m');
  await bidMain(cara.page).click();
  await expect(bidMain(cara.page)).toHaveText('You lead');
  await ann.ctx.setOffline(false);
  await expect(ann.page.getByTestId('conn')).toHaveText(/Live/, { timeout: 15_000 });
  await expectServerState(ann.page, ann.api, AID, 'Ann after reconnecting');
  const s = await state();
  await expect(price(ann.page)).toHaveText(money(s.lot.currentBid));
  const serverBids = await bids(s.lot.number);
  const rows = ann.page.locator('[data-testid=history] li');
  await expect(ann.page.locator('.history h3')).toContainText(`(${serverBids.items.length})`);
  await expect(rows).toHaveCount(Math.min(3, serverBids.items.length));
  const seqs = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs).toEqual(serverBids.items.map((b: any) => b.seq).reverse().slice(0, 3));

  // Spectator and big screen saw the same price.
  await expect(price(dee.page)).toHaveText(money(s.lot.currentBid));
  await expect(tv.getByTestId('tv-price')).toHaveText(money(s.lot.currentBid));
  await tv.screenshot({ path: join(SHOTS, 'bigscreen-1280.png') });
  await tv.setViewportSize({ width: 360, height: 740 });
  await tv.screenshot({ path: join(SHOTS, 'bigscreen-360.png') });
  await axeClean(tv, 'big screen', null);
  await shoot(dee.page, 'spectator');

  // ---- completion -------------------------------------------------------------------------------
  await cara.page.getByRole('button', { name: 'End auction' }).click();
  await expect(cara.page.getByRole('dialog')).toBeVisible();
  await cara.page.screenshot({ path: join(SHOTS, 'commissioner-confirm-end-360.png'), animations: 'disabled' });
  await axeClean(cara.page, 'confirmation dialog', null);
  await cara.page.getByRole('dialog').getByRole('button', { name: 'End auction' }).click();
  for (const p of [...all, dee]) await expect(p.page.getByText('Auction complete')).toBeVisible();
  await shoot(ben.page, 'completion');
  for (const p of [...all, dee]) await expectServerState(p.page, cara.api, AID, `${p.name} at completion`);
  const results = await cara.api.call('GET', `/api/auctions/${AID}/results`);
  for (const p of [...all, dee]) {
    for (const m of results.managers) {
      const items = p.page.locator(`main [data-testid=rosters] section[data-user="${m.userId}"] li`);
      await expect(items).toHaveCount(m.roster.length);
      const got = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-asset')));
      expect(got).toEqual(m.roster.map((r: any) => r.assetId));
    }
  }
  await axeClean(ben.page, 'completion', null);

  // Results page and the CSV (bytes identical to the API's).
  await ben.page.goto(`${srv.url}/auctions/${AID}/results`);
  await expect(ben.page.getByRole('heading', { name: 'Results', exact: true })).toBeVisible();
  for (const m of results.managers)
    await expect(ben.page.locator(`[data-testid=results-rosters] section[data-user="${m.userId}"] li`)).toHaveCount(m.roster.length);
  await expect(ben.page.locator('[data-testid=results-lots] tbody tr')).toHaveCount(results.lots.length);
  await shoot(ben.page, 'results');
  await axeClean(ben.page, 'results', null);
  const dl = ben.page.waitForEvent('download');
  await ben.page.getByRole('button', { name: 'Download CSV' }).click();
  const file = await (await dl).path();
  const csv = readFileSync(file!, 'utf8');
  const apiCsv = await (await fetch(`${srv.url}/api/auctions/${AID}/results?format=csv`, { headers: { Authorization: 'Bearer ' + ben.api.token } })).text();
  expect(csv).toBe(apiCsv);
  expect(csv.split('\n')[0]).toContain('lot');

  for (const p of [...all, dee]) await p.ctx.close();
});
