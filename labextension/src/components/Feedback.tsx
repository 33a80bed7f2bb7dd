import * as React from 'react';

/** An API error, in the theme's error colour; nothing when there is no error. */
export function ErrorLine(props: { error: string; testid: string }): JSX.Element | null {
  if (!props.error) {
    return null;
  }
  return (
    <div className="jp-colearn-error" role="alert" data-testid={props.testid}>
      {props.error}
    </div>
  );
}

/** The outcome of an action, in the theme's success colour. */
export function MessageLine(props: { message: string; testid: string }): JSX.Element | null {
  if (!props.message) {
    return null;
  }
  return (
    <div className="jp-colearn-message" role="status" data-testid={props.testid}>
      {props.message}
    </div>
  );
}

export function Loading(props: { loading: boolean; testid: string; label?: string }): JSX.Element | null {
  if (!props.loading) {
    return null;
  }
  return (
    <div className="jp-colearn-loading" aria-busy="true" data-testid={props.testid}>
      {props.label ?? 'Loading…'}
    </div>
  );
}
