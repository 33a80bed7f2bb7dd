import * as React from 'react';

import { ErrorLine, Loading } from './Feedback';

/** A drop-down of string options; `labels` names the options (default: the values themselves). */
export function Select<T extends string>(props: {
  label: string;
  testid: string;
  value: T;
  options: readonly T[];
  labels?: Record<T, string>;
  onChange: (value: T) => void;
}): JSX.Element {
  return (
    <select
      className="jp-colearn-select"
      aria-label={props.label}
      data-testid={props.testid}
      value={props.value}
      onChange={e => props.onChange(e.target.value as T)}
    >
      {props.options.map(option => (
        <option key={option} value={option}>
          {props.labels?.[option] ?? option}
        </option>
      ))}
    </select>
  );
}

/** A labelled text field for the account an action runs as. */
export function AccountField(props: {
  label: string;
  ariaLabel: string;
  testid: string;
  value: string;
  /** shown while empty: the account that acts then */
  placeholder?: string;
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label className="jp-colearn-field">
      {props.label}
      <input
        className="jp-colearn-input"
        aria-label={props.ariaLabel}
        data-testid={props.testid}
        value={props.value}
        placeholder={props.placeholder || undefined}
        maxLength={64}
        onChange={e => props.onChange(e.target.value)}
      />
    </label>
  );
}

/**
 * Above a list loaded from the server: its error, "Loading…" until the first answer, and `children` (what
 * to say when the list is empty) once it is loaded, empty and without error. `name` completes the test
 * ids `colearn-error-<name>` and `colearn-loading-<name>`.
 */
export function ListStatus(props: {
  name: string;
  error: string;
  loading: boolean;
  loaded: boolean;
  empty: boolean;
  emptyTestid: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <>
      <ErrorLine error={props.error} testid={`colearn-error-${props.name}`} />
      <Loading loading={props.loading && !props.loaded} testid={`colearn-loading-${props.name}`} />
      {props.loaded && !props.error && props.empty && (
        <div className="jp-colearn-empty" data-testid={props.emptyTestid}>
          {props.children}
        </div>
      )}
    </>
  );
}

/** One entry of a list: a button that opens (or, when `selected`, closes) the entry. */
export function ListItem(props: {
  testid: string;
  selected: boolean;
  onClick: () => void;
  title: React.ReactNode;
  meta: React.ReactNode;
}): JSX.Element {
  return (
    <li>
      <button
        className={`jp-colearn-item${props.selected ? ' jp-mod-selected' : ''}`}
        data-testid={props.testid}
        aria-pressed={props.selected}
        onClick={props.onClick}
      >
        <span className="jp-colearn-item-title">{props.title}</span>
        <span className="jp-colearn-item-meta">{props.meta}</span>
      </button>
    </li>
  );
}

/**
 * The card of the entry open in a section: a header with `title` (and a close button with `onClose`),
 * the error and "Loading…" (until there is a `detail`) of its request, then `children`. `name` completes
 * the test ids `colearn-error-<name>` and `colearn-loading-<name>`.
 */
export function DetailCard(props: {
  testid: string;
  name: string;
  title: React.ReactNode;
  onClose?: () => void;
  error: string;
  loading: boolean;
  loadingLabel?: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-colearn-card" data-testid={props.testid}>
      <div className="jp-colearn-card-header">
        <span className="jp-colearn-card-title">{props.title}</span>
        {props.onClose && (
          <button className="jp-colearn-link" aria-label="Close" title="Close" onClick={props.onClose}>
            ×
          </button>
        )}
      </div>
      <ErrorLine error={props.error} testid={`colearn-error-${props.name}`} />
      <Loading loading={props.loading} testid={`colearn-loading-${props.name}`} label={props.loadingLabel} />
      {props.children}
    </div>
  );
}

/** The request for the entry open in a section, as the props of its card. */
export function detailProps<T>(state: {
  detail: T | null;
  detailLoading: boolean;
  detailError: string;
}): { detail: T | null; loading: boolean; error: string } {
  return { detail: state.detail, loading: state.detailLoading, error: state.detailError };
}

/**
 * The note next to an action that runs as another account than the server's (`acting as alice, not this server's
 * account owner`): acting as another account is an explicit choice, and visible. Nothing for the server's own.
 */
export function ActingNote(props: { note: string; testid: string }): JSX.Element | null {
  if (!props.note) {
    return null;
  }
  return (
    <div className="jp-colearn-acting" data-testid={props.testid}>
      {props.note}
    </div>
  );
}
