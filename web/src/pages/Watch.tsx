// Watch by watch link: become a spectator, then go to the league's auction (or its page).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { auctionOf, getLeague, listLeagues, watchCode } from '../api/leagues';
import { Spinner } from '../components/ui';
import { navigate } from '../router';

async function watch(code: string): Promise<string> {
  const before = new Set((await listLeagues()).map((l) => l.id));
  const m = await watchCode(code);
  let leagueId = (m as any).leagueId as string | undefined;
  if (!leagueId) {
    // Older servers do not name the league: find the one that appeared in our list.
    const after = await listLeagues();
    leagueId = after.find((l) => !before.has(l.id))?.id;
    // Already following it, and the server does not say which league: the list shows it.
    if (!leagueId) return '/?following=1';
  }
  const league = await getLeague(leagueId);
  const a = await auctionOf(league);
  if (a && a.status !== 'completed') return `/auctions/${encodeURIComponent(a.id)}`;
  return `/leagues/${encodeURIComponent(leagueId)}`;
}

export default function Watch({ code }: { code: string }) {
  const [error, setError] = useState<unknown>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    watch(code).then((to) => navigate(to, { replace: true }), setError);
  }, [code]);
  if (!error) return <Spinner label="Opening the auction" />;
  const notFound = error instanceof ApiError && error.status === 404;
  return (
    <div class="page narrow center-text">
      <h1>{notFound ? 'This watch link does not work' : 'We could not open this league'}</h1>
      <p class="muted">
        {notFound
          ? 'It may have been mistyped, or the commissioner made a new one. Ask them for the current watch link.'
          : error instanceof ApiError
            ? error.message
            : 'Please try again.'}
      </p>
      <div class="row center">
        {!notFound && (
          <button class="btn-primary" onClick={() => location.reload()}>
            Try again
          </button>
        )}
        <a class="btn" href="/">
          Your leagues
        </a>
      </div>
    </div>
  );
}
