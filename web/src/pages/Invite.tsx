// Join by invite link: a preview first, then join; clear words for full, started and wrong code.
import { useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { invitePreview, joinInvite } from '../api/leagues';
import { Notice, Spinner, useLoad } from '../components/ui';
import { navigate } from '../router';

export default function Invite({ code }: { code: string }) {
  const res = useLoad(() => invitePreview(code), [code]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  if (res.loading) return <Spinner label="Checking the invite" />;
  if (res.error) {
    const notFound = res.error instanceof ApiError && res.error.status === 404;
    return (
      <div class="page narrow center-text">
        <h1>{notFound ? 'This invite link does not work' : 'We could not check this invite'}</h1>
        <p class="muted">
          {notFound
            ? 'It may have been mistyped, or the commissioner made a new link. Ask them to send the current one.'
            : res.error instanceof ApiError
              ? res.error.message
              : 'Please try again.'}
        </p>
        <div class="row center">
          {!notFound && (
            <button class="btn-primary" onClick={res.reload}>
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
  const p = res.data!;
  const join = async () => {
    setBusy(true);
    setError(null);
    try {
      await joinInvite(code);
      navigate(`/leagues/${encodeURIComponent(p.leagueId)}`, { replace: true });
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'unknown', 'Something went wrong. Please try again.'));
      res.reload();
    } finally {
      setBusy(false);
    }
  };
  const full = p.memberCount >= p.maxManagers;
  const started = error?.code === 'auction_started' || (!p.joinable && !full);
  return (
    <div class="page narrow">
      <div class="card">
        <p class="eyebrow">You are invited to</p>
        <h1>{p.name}</h1>
        <dl class="kv" style="margin:16px 0">
          <dt>Commissioner</dt>
          <dd>{p.commissionerName}</dd>
          <dt>Sport</dt>
          <dd style="text-transform:capitalize">{p.sport}</dd>
          <dt>Competition</dt>
          <dd>{p.competition}</dd>
          <dt>Managers</dt>
          <dd>
            {p.memberCount} of {p.maxManagers}
          </dd>
        </dl>
        {started ? (
          <Notice kind="warn">
            <p>
              <strong>The auction has already begun</strong>, so nobody can join as a manager now.
            </p>
            <p>You can still watch it live: ask {p.commissionerName} for the league’s watch link.</p>
          </Notice>
        ) : full || error?.code === 'league_full' ? (
          <Notice kind="warn">
            <p>
              <strong>This league is full</strong> ({p.maxManagers} managers). Ask {p.commissionerName} to raise the limit, or for the watch link to follow along.
            </p>
          </Notice>
        ) : (
          <>
            {error && <Notice>{error.message}</Notice>}
            <button class="btn-primary btn-block" onClick={join} disabled={busy}>
              {busy ? 'Joining…' : `Join as a manager`}
            </button>
            <p class="small muted" style="margin-top:8px">
              You will bid in the live auction with the same budget as everyone else.
            </p>
          </>
        )}
      </div>
    </div>
  );
}
