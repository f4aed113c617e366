// Catches render errors: a calm message and a way back, never a stack; the error is reported.
import { Component, type ComponentChildren } from 'preact';
import { reportClientError } from '../api/client';

interface Props {
  children: ComponentChildren;
  resetKey?: string;
}

export class ErrorBoundary extends Component<Props, { error: Error | null; key?: string }> {
  override state = { error: null as Error | null, key: this.props.resetKey };

  static override getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error) {
    reportClientError('render', String(error?.message ?? error).slice(0, 300));
  }

  override componentDidUpdate() {
    if (this.state.error && this.state.key !== this.props.resetKey) this.setState({ error: null, key: this.props.resetKey });
    else if (this.state.key !== this.props.resetKey) this.setState({ key: this.props.resetKey });
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div class="page narrow center-text" role="alert">
        <h1>Something went wrong on this page</h1>
        <p class="muted">We have been told about it. Your leagues and auctions are safe on the server.</p>
        <div class="row center">
          <button class="btn-primary" onClick={() => location.reload()}>
            Try again
          </button>
          <a class="btn" href="/">
            Back to your leagues
          </a>
        </div>
      </div>
    );
  }
}
