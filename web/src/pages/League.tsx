// The league page: status and the way into the auction, invite and watch links, members and
// spectators, settings, asset selection (commissioner), and leaving or deleting. Live: the league
// room's events (members, settings, the auction's creation) reload it; a poll only while the
// socket is down.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, session } from '../api/client';
import {
  auctionOf,
  createAuction,
  deleteLeague,
  getLeague,
  leagueAssets,
  listMembers,
  listSports,
  removeMember,
  rotateInvite,
  rotateWatch,
} from '../api/leagues';
import type { AuctionSummary, League, LeagueAsset, Member, Sport } from '../api/types';
import { Badge, ConfirmDialog, GonePage, CopyButton, LoadError, Notice, ShareButton, Spinner, useLoad } from '../components/ui';
import { formatMoney } from '../lib/format';
import { roleLabel, statusView } from '../lib/leagueStatus';
import { LOT_ORDERS } from '../lib/settings';
import { useLeagueLive } from '../realtime/useLeagueLive';
import { loc, navigate } from '../router';
import { AssetPicker } from './league/AssetPicker';

interface Data {
  league: League;
  members: Member[];
  assets: LeagueAsset[];
  auction: AuctionSummary | null;
  sport: Sport | undefined;
  /** Which load this is, in the order they were asked for: the newest answer is shown. */
  rev: number;
}

let loads = 0;
async function load(id: string): Promise<Data> {
  const rev = ++loads;
  const league = await getLeague(id);
  const [members, assets, auction, sports] = await Promise.all([
    listMembers(id),
    leagueAssets(id),
    auctionOf(league),
    listSports().catch(() => [] as Sport[]),
  ]);
  return { league, members, assets, auction, sport: sports.find((s) => s.key === league.sport), rev };
}

function newest(a: Data | null, b: Data | null): Data | null {
  return !a ? b : !b ? a : a.rev >= b.rev ? a : b;
}

/** The league room's events that change this page (standings are the season page's). */
const LEAGUE_EVENTS = new Set(['member_joined', 'member_left', 'league_updated', 'auction_created', 'auction_status']);
/** While the socket is down. */
const POLL_MS = 20_000;

type Pending =
  | { kind: 'delete' }
  | { kind: 'leave' }
  | { kind: 'remove'; member: Member }
  | { kind: 'rotate'; which: 'invite' | 'watch' }
  | null;

function LinkRow(props: { label: string; url: string; shareText: string; onRotate: () => void; help: string }) {
  return (
    <div style="margin-bottom:16px">
      <h3 class="small" style="margin-bottom:4px">{props.label}</h3>
      <p class="small muted">{props.help}</p>
      <div class="link-box">
        <code>{props.url}</code>
        <CopyButton text={props.url} label="Copy" />
        <ShareButton url={props.url} title={props.label} text={props.shareText} />
        <button type="button" class="btn-ghost" onClick={props.onRotate}>
          New link
        </button>
      </div>
    </div>
  );
}

export default function LeaguePage({ id }: { id: string }) {
  const res = useLoad(() => load(id), [id]);
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [createError, setCreateError] = useState<string | null>(null);
  const justCreated = loc.value.query.get('created') === '1';

  const [gone, setGone] = useState<string | null>(null);
  // The room's reloads, kept apart from the first load: whichever was asked for last is shown.
  const [fresh, setFresh] = useState<Data | null>(null);
  const data = newest(res.data, fresh);
  // Members join while the commissioner waits: reload on the room's events, but never under an
  // open dialog (it acts on what it shows); a reload asked for meanwhile runs when it closes.
  const held = useRef<{ pending: Pending; deferred: boolean; leaving: boolean }>({ pending: null, deferred: false, leaving: false });
  held.current.pending = pending;
  const live = useLeagueLive(id, {
    reload: async () => {
      if (held.current.pending) {
        held.current.deferred = true;
        return;
      }
      try {
        setFresh(await load(id));
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403) && !held.current.leaving) setGone('You are not a member of this league any more.');
        else throw e;
      }
    },
    relevant: (ev) => LEAGUE_EVENTS.has(ev.type),
    onEvent: (ev) => {
      if (ev.type === 'league_deleted' && !held.current.leaving) setGone('The commissioner deleted this league.');
    },
    // Only once the page has shown the league: a league that never loaded is the load's 404.
    onRefused: () => {
      if (!held.current.leaving && data) setGone('You are not a member of this league any more.');
    },
    pollMs: POLL_MS,
  });
  useEffect(() => {
    if (!pending && held.current.deferred) {
      held.current.deferred = false;
      live.refresh();
    }
  }, [pending]);

  if (gone) return <GonePage title="This league is gone" why={gone} />;
  if (res.loading && !data) return <Spinner label="Loading the league" />;
  if (res.error || !data) return <LoadError error={res.error} onRetry={res.reload} />;
  const { league, members, assets, auction, sport } = data;
  const me = session.value.user;
  const isComm = league.commissionerId === me?.id;
  const myRole = isComm ? 'commissioner' : members.find((m) => m.userId === me?.id)?.role ?? league.role ?? 'spectator';
  const managers = members.filter((m) => m.role !== 'spectator');
  const spectators = members.filter((m) => m.role === 'spectator');
  const s = league.settings;
  const cur = s.currency;
  const view = statusView(league, auction);
  const origin = location.origin;
  const plural = sport?.assetPlural ?? 'Assets';
  const enoughManagers = managers.length >= s.minManagers;
  const canEdit = isComm && !auction;

  const act = async (fn: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setActionError(null);
    try {
      await fn();
      setPending(null);
      after ? after() : res.reload();
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : 'That did not work. Please try again.');
    } finally {
      setBusy(false);
    }
  };

  const startAuction = async () => {
    setBusy(true);
    setCreateError(null);
    try {
      const a = await createAuction(league.id);
      navigate(`/auctions/${encodeURIComponent(a.id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_enough_managers')
        setCreateError(`You need at least ${s.minManagers} managers (you included). Share the invite link.`);
      else setCreateError(e instanceof ApiError ? e.message : 'Could not create the auction. Try again.');
      res.reload();
    } finally {
      setBusy(false);
    }
  };

  let dialog = null;
  if (pending?.kind === 'delete')
    dialog = {
      title: `Delete “${league.name}”?`,
      body: (
        <p>
          This removes the league for everyone: members, {auction ? 'the auction, every roster and all results' : 'settings and selections'}. It cannot be undone.
          {auction && auction.status !== 'completed' ? ' To stop bidding but keep rosters, use “End auction” in the room instead.' : ''}
        </p>
      ),
      label: 'Delete league forever',
      run: () => {
        held.current.leaving = true;
        return act(() => deleteLeague(league.id), () => navigate('/', { replace: true })).finally(() => (held.current.leaving = false));
      },
    };
  else if (pending?.kind === 'leave')
    dialog = {
      title: `Leave “${league.name}”?`,
      body: <p>You will need a new invite to come back.</p>,
      label: 'Leave league',
      run: () => {
        held.current.leaving = true;
        return act(() => removeMemberSelf(league.id, me!.id), () => navigate('/', { replace: true })).finally(() => (held.current.leaving = false));
      },
    };
  else if (pending?.kind === 'remove')
    dialog = {
      title: `Remove ${pending.member.name}?`,
      body: <p>They leave the league now. They can rejoin with the invite link while it is open.</p>,
      label: 'Remove',
      run: () => act(() => removeMember(league.id, pending.member.userId)),
    };
  else if (pending?.kind === 'rotate')
    dialog = {
      title: pending.which === 'invite' ? 'Make a new invite link?' : 'Make a new watch link?',
      body: <p>The current link stops working at once. People who already joined stay in the league.</p>,
      label: 'Make a new link',
      run: () => act(() => (pending.which === 'invite' ? rotateInvite(league.id) : rotateWatch(league.id))),
    };

  return (
    <div class="page wide" data-live={live.status}>
      <p class="eyebrow">
        <a href="/">Your leagues</a>
      </p>
      <div class="page-head">
        <div>
          <h1>{league.name}</h1>
          <div class="league-meta" style="margin-top:8px">
            <Badge tone={view.tone}>{view.label}</Badge>
            <span>{roleLabel(myRole as any)}</span>
            <span aria-hidden="true">·</span>
            <span>
              {sport?.name ?? league.sport} · {league.competition}
            </span>
          </div>
        </div>
        {auction && auction.status !== 'completed' && (
          <a class="btn" href={`/auctions/${encodeURIComponent(auction.id)}/tv`}>
            Big screen
          </a>
        )}
      </div>

      {justCreated && isComm && !auction && (
        <Notice kind="ok">
          <strong>Your league is ready.</strong> Send the invite link to your friends, check the {plural.toLowerCase()}, then create the auction.
        </Notice>
      )}
      {actionError && !pending && <Notice>{actionError}</Notice>}

      <div class="grid-2">
        <div>
          {isComm && !auction && (
            <section class="card" aria-labelledby="start-h">
              <h2 id="start-h">Start the auction</h2>
              <p class="muted">
                <span class="tabular">
                  {managers.length} of {s.minManagers}
                </span>{' '}
                managers needed have joined (you included) · {assets.length} {plural.toLowerCase()} selected.
              </p>
              {createError && <Notice>{createError}</Notice>}
              <button class="btn-primary" onClick={startAuction} disabled={busy || !enoughManagers || assets.length < s.rosterSize}>
                {busy ? 'Creating…' : 'Create the auction room'}
              </button>
              <p class="small muted" style="margin-top:8px">
                {enoughManagers
                  ? 'Everyone can enter the lobby; bidding starts when you press Begin in the room. Settings and selection lock then.'
                  : 'Waiting for managers to join with the invite link.'}
              </p>
            </section>
          )}

          {(!isComm || auction) && (
            <section class="card" aria-labelledby="auction-h">
              <h2 id="auction-h">The auction</h2>
              {!auction ? (
                <p class="muted">
                  Not open yet. When the commissioner opens the auction room, the way in appears here and on your leagues page. {managers.length} of {s.maxManagers} managers have
                  joined so far.
                </p>
              ) : (
                <>
                  <p class="muted">
                    {auction.status === 'waiting'
                      ? 'The lobby is open. Bidding starts when the commissioner presses Begin.'
                      : auction.status === 'running'
                        ? 'Bidding is live right now.'
                        : auction.status === 'paused'
                          ? 'The commissioner has paused the auction.'
                          : 'The auction is over. Rosters and prices are in the results.'}
                  </p>
                  <div class="row">
                    <a class="btn btn-primary" href={view.href}>
                      {view.action}
                    </a>
                    {(auction.status === 'running' || auction.status === 'paused') && <a href={`/auctions/${encodeURIComponent(auction.id)}/results`}>Results so far</a>}
                  </div>
                </>
              )}
            </section>
          )}

          {isComm && league.inviteCode && (
            <section class="card" aria-labelledby="links-h">
              <h2 id="links-h">Invite and watch links</h2>
              {auction ? (
                <p class="small muted">The auction room exists, so nobody can join as a manager any more. Share the watch link instead: spectators can follow every bid.</p>
              ) : (
                <LinkRow
                  label="Invite link"
                  url={`${origin}/invite/${league.inviteCode}`}
                  shareText={`Join my Gavel auction league “${league.name}”`}
                  help="Managers join with this. Send it to the people who will bid."
                  onRotate={() => setPending({ kind: 'rotate', which: 'invite' })}
                />
              )}
              {league.watchCode && (
                <LinkRow
                  label="Watch link"
                  url={`${origin}/watch/${league.watchCode}`}
                  shareText={`Watch the “${league.name}” auction live on Gavel`}
                  help="Spectators watch the auction with this and never bid. Good for a pub screen."
                  onRotate={() => setPending({ kind: 'rotate', which: 'watch' })}
                />
              )}
            </section>
          )}

        </div>

        <div>
          <section class="card" aria-labelledby="members-h">
            <div class="card-head">
              <h2 id="members-h">Managers</h2>
              <span class="small muted tabular">
                {managers.length} of {s.maxManagers}
              </span>
            </div>
            <ul class="list">
              {managers.map((m) => (
                <li key={m.userId}>
                  <span class="avatar" aria-hidden="true">
                    {m.name.slice(0, 1).toUpperCase()}
                  </span>
                  <div class="grow">
                    <div class="name">
                      {m.name}
                      {m.userId === me?.id ? ' (you)' : ''}
                    </div>
                    <div class="small muted">
                      {roleLabel(m.role)}
                      {m.roster.length > 0 && ` · ${m.roster.length} bought · ${formatMoney(m.budgetRemaining, cur)} left`}
                    </div>
                  </div>
                  {isComm && !auction && m.userId !== me?.id && (
                    <button type="button" class="btn-ghost small" onClick={() => setPending({ kind: 'remove', member: m })} aria-label={`Remove ${m.name}`}>
                      Remove
                    </button>
                  )}
                </li>
              ))}
            </ul>
            <h3 class="section-title">Spectators ({spectators.length})</h3>
            {spectators.length === 0 ? (
              <p class="small muted">Nobody is watching yet.</p>
            ) : (
              <ul class="list">
                {spectators.map((m) => (
                  <li key={m.userId}>
                    <div class="grow name">
                      {m.name}
                      {m.userId === me?.id ? ' (you)' : ''}
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </section>

          <section class="card" aria-labelledby="season-h">
            <h2 id="season-h">Season</h2>
            <a href={`/leagues/${encodeURIComponent(league.id)}/season`}>Season: table and fixtures</a>
          </section>

          <section class="card" aria-labelledby="settings-h">
            <div class="card-head">
              <h2 id="settings-h">Settings</h2>
              {canEdit && (
                <a class="btn" href={`/leagues/${encodeURIComponent(league.id)}/edit`}>
                  Edit settings
                </a>
              )}
            </div>
            <dl class="kv">
              <dt>Budget</dt>
              <dd>{formatMoney(s.budget, cur)}</dd>
              <dt>Roster size</dt>
              <dd>{s.rosterSize}</dd>
              <dt>Opening bid</dt>
              <dd>{formatMoney(s.minBid, cur)}</dd>
              <dt>Minimum raise</dt>
              <dd>{formatMoney(s.minIncrement, cur)}</dd>
              <dt>Managers</dt>
              <dd>
                {s.minManagers}–{s.maxManagers}
              </dd>
              <dt>Clock per lot</dt>
              <dd>{s.lotSeconds} s</dd>
              <dt>Anti-snipe</dt>
              <dd>{s.antiSnipeSeconds ? `${s.antiSnipeSeconds} s` : 'Off'}</dd>
              <dt>Between lots</dt>
              <dd>{s.intermissionSeconds} s</dd>
              <dt>Order</dt>
              <dd>{LOT_ORDERS.find((o) => o[0] === s.lotOrder)?.[1] ?? s.lotOrder}</dd>
              <dt>Unsold re-offered</dt>
              <dd>{s.reofferUnsold === 0 ? 'Never' : `${s.reofferUnsold}×`}</dd>
            </dl>
            <p class="small muted" style="margin-top:12px">
              <a href="/help#settings">What each setting does</a>
            </p>
          </section>

        </div>
      </div>

      <section class="card" aria-labelledby="assets-h">
        <div class="card-head">
          <h2 id="assets-h">{plural}</h2>
          <span class="small muted tabular">{assets.length} selected</span>
        </div>
        {canEdit ? (
          <AssetPicker league={league} initial={assets} assetPlural={plural} onSaved={live.refresh} />
        ) : (
          <>
            {isComm && auction && <p class="small muted">The selection is locked because the auction exists.</p>}
            <div class="scroll-box" tabIndex={0} role="region" aria-label={`Selected ${plural.toLowerCase()}`}>
              <ol class="list">
                {assets.map((a) => (
                  <li key={a.assetId ?? a.id}>
                    <div class="grow">
                      <div class="name">{a.name}</div>
                      <div class="small muted">{[a.role, a.team ?? a.country].filter(Boolean).join(' · ') || '\u00a0'}</div>
                    </div>
                    {a.status === 'sold' && a.price !== null ? (
                      <span class="small tabular">{formatMoney(a.price, cur)}</span>
                    ) : a.status !== 'available' ? (
                      <Badge>{a.status === 'on_block' ? 'On the block' : a.status === 'unsold' ? 'Unsold' : a.status}</Badge>
                    ) : null}
                  </li>
                ))}
              </ol>
            </div>
          </>
        )}
      </section>
      <section class="card danger-zone" aria-labelledby="danger-h">
        <h2 id="danger-h">{isComm ? 'Delete league' : 'Leave league'}</h2>
        {isComm ? (
          <>
            <p class="small muted">Deletes the league, its auction, rosters and results for everyone. To stop bidding and keep rosters, use “End auction” in the room.</p>
            <button type="button" class="btn-danger" onClick={() => setPending({ kind: 'delete' })}>
              Delete league…
            </button>
          </>
        ) : auction && myRole !== 'spectator' ? (
          <p class="small muted">Managers cannot leave once the auction exists. Ask the commissioner if you need to.</p>
        ) : (
          <>
            <p class="small muted">{myRole === 'spectator' ? 'Stop watching this league.' : 'Leave before the auction starts.'}</p>
            <button type="button" class="btn-danger" onClick={() => setPending({ kind: 'leave' })}>
              Leave league…
            </button>
          </>
        )}
      </section>

      <ConfirmDialog
        open={!!dialog}
        title={dialog?.title ?? ''}
        body={dialog?.body ?? null}
        confirmLabel={dialog?.label ?? 'OK'}
        danger
        busy={busy}
        error={actionError}
        onConfirm={() => dialog?.run()}
        onCancel={() => {
          setPending(null);
          setActionError(null);
        }}
      />
    </div>
  );
}

function removeMemberSelf(leagueId: string, userId: string) {
  return removeMember(leagueId, userId);
}
