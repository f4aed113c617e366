// 404: a way back, never a dead end.
export default function NotFound() {
  return (
    <div class="page narrow center-text">
      <p class="eyebrow">404</p>
      <h1>There is nothing at this address</h1>
      <p class="muted">The link may be mistyped or out of date. If a friend sent it, ask them for a fresh one.</p>
      <div class="row center">
        <a class="btn btn-primary" href="/">
          Your leagues
        </a>
        <a class="btn" href="/help">
          How Gavel works
        </a>
      </div>
    </div>
  );
}
