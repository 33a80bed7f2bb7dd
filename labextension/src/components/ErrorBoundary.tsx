import * as React from 'react';

/** Keep the panel alive when a section fails to render (e.g. an answer of an unexpected shape). */
export class ErrorBoundary extends React.Component<
  { children?: React.ReactNode; testid: string },
  { error: string }
> {
  state = { error: '' };

  static getDerivedStateFromError(error: unknown): { error: string } {
    return { error: error instanceof Error ? error.message : String(error) };
  }

  componentDidCatch(error: unknown): void {
    console.error('colearn: a panel failed to render', error);
  }

  render(): React.ReactNode {
    if (this.state.error) {
      return (
        <div className="jp-colearn-error" role="alert" data-testid={this.props.testid}>
          This section failed to render: {this.state.error}
          <button className="jp-colearn-link" onClick={() => this.setState({ error: '' })}>
            retry
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}
