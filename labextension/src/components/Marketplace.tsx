import * as React from 'react';

import {
  ColearnModel,
  formatAccuracy,
  formatDuration,
  formatWei,
  shorten
} from '../model';
import { IModelDetail, MODEL_SORT_KEYS, ModelSortKey, SortOrder } from '../tokens';
import { AccuracyChart } from './AccuracyChart';
import { ActingNote, DetailCard, detailProps, ListItem, ListStatus, Select } from './common';
import { ErrorLine, MessageLine } from './Feedback';

const SORT_ORDERS: readonly SortOrder[] = ['asc', 'desc'];

const SORT_LABELS: Record<ModelSortKey, string> = {
  id: 'id',
  name: 'name',
  accuracy: 'accuracy',
  rows_accepted: 'rows accepted',
  rows_pending: 'rows pending'
};

export interface IMarketplaceProps {
  model: ColearnModel;
  /** "Contribute file…" on a model's card: asks for a path and an account, then `model.contribute` */
  onContribute: (modelId: number) => void;
}

/** Search, sort and list the models; a click opens the model's card. */
export function Marketplace(props: IMarketplaceProps): JSX.Element {
  const { model } = props;
  const state = model.market;
  const models = model.visibleModels;
  return (
    <div className="jp-colearn-section" data-testid="colearn-market">
      <div className="jp-colearn-controls">
        <input
          className="jp-colearn-input jp-colearn-search"
          type="search"
          placeholder="Search models…"
          aria-label="Search models"
          data-testid="colearn-search"
          value={state.search}
          maxLength={200}
          onChange={e => void model.setSearch(e.target.value)}
        />
        <Select
          label="Sort models by"
          testid="colearn-sort"
          value={state.sort}
          options={MODEL_SORT_KEYS}
          labels={SORT_LABELS}
          onChange={key => void model.setSort(key)}
        />
        <Select
          label="Sort order"
          testid="colearn-order"
          value={state.order}
          options={SORT_ORDERS}
          onChange={order => void model.setOrder(order)}
        />
      </div>
      <ListStatus
        name="market"
        error={state.error}
        loading={state.loading}
        loaded={state.loaded}
        empty={models.length === 0}
        emptyTestid="colearn-no-models"
      >
        {state.search ? `No model matches "${state.search}".` : 'No model is published yet.'}
      </ListStatus>
      <ul className="jp-colearn-list" data-testid="colearn-model-list" aria-label="Models">
        {models.map(m => (
          <ListItem
            key={m.id}
            testid={`colearn-model-${m.id}`}
            selected={m.id === state.selectedId}
            onClick={() => void model.selectModel(m.id === state.selectedId ? null : m.id)}
            title={`#${m.id} ${m.name}`}
            meta={`${formatAccuracy(m.accuracy)} · ${m.rows_accepted} accepted · ${m.rows_pending} pending`}
          />
        ))}
      </ul>
      {state.total > models.length && !state.search && (
        <div className="jp-colearn-note">
          Showing {models.length} of {state.total} models.
        </div>
      )}
      {state.selectedId !== null && (
        <ModelCard
          {...detailProps(state)}
          busy={state.busy}
          actionError={state.actionError}
          message={state.message}
          blocked={model.blockedReason('account')}
          actingNote={model.actingNote('account')}
          offersRetrain={state.detail !== null && model.offersRetrain(state.detail.model.owner)}
          onContribute={() => props.onContribute(state.selectedId as number)}
          onRetrain={() => void model.retrain(state.selectedId as number)}
          onClose={() => void model.selectModel(null)}
        />
      )}
    </div>
  );
}

export interface IModelCardProps {
  detail: IModelDetail | null;
  loading: boolean;
  error: string;
  busy: boolean;
  actionError: string;
  message: string;
  /** why its actions cannot run (the server is read-only and no account is named), or `''` */
  blocked?: string;
  /** `acting as bob, not this server's account owner`, or `''` */
  actingNote?: string;
  /** whether to offer Retrain (the acting account owns the model) */
  offersRetrain?: boolean;
  onContribute: () => void;
  onRetrain?: () => void;
  onClose: () => void;
}

/** One model: terms, row counts, accuracy history and the "Contribute file…" action. */
export function ModelCard(props: IModelCardProps): JSX.Element {
  const { detail } = props;
  const m = detail?.model;
  const latestCheck = detail?.versions[detail.versions.length - 1]?.check;
  return (
    <DetailCard
      testid="colearn-model-card"
      name="model"
      title={m ? `#${m.id} ${m.name}` : 'Model'}
      onClose={props.onClose}
      error={props.error}
      loading={props.loading && !detail}
    >
      {m && (
        <>
          <dl className="jp-colearn-facts">
            <dt>owner</dt>
            <dd title={m.owner}>{shorten(m.owner)}</dd>
            <dt>accuracy</dt>
            <dd data-testid="colearn-model-accuracy">
              {formatAccuracy(m.accuracy)} (v{m.versions})
              {latestCheck && (
                <span
                  className={`jp-colearn-check jp-colearn-check-${latestCheck}`}
                  data-testid="colearn-model-check"
                  title="the claimed accuracy measured on the test set the owner revealed"
                >
                  {' '}
                  {latestCheck}
                </span>
              )}
            </dd>
            <dt>deposit / row</dt>
            <dd data-testid="colearn-model-deposit">{formatWei(m.deposit_wei)}</dd>
            <dt>reward / row</dt>
            <dd data-testid="colearn-model-reward">{formatWei(m.reward_wei)}</dd>
            <dt>challenge bond</dt>
            <dd data-testid="colearn-model-bond">{formatWei(m.bond_wei)}</dd>
            <dt>window</dt>
            <dd data-testid="colearn-model-window">
              {formatDuration(m.window_s)} (resolve within {formatDuration(m.timeout_s)})
            </dd>
            <dt>reward pool</dt>
            <dd>{formatWei(m.reward_pool_wei)}</dd>
            <dt>rows</dt>
            <dd data-testid="colearn-model-rows">
              {m.rows_accepted} accepted · {m.rows_pending} pending · {m.rows_rejected} rejected
            </dd>
          </dl>
          <div className="jp-colearn-subtitle">Accuracy history</div>
          <AccuracyChart versions={detail?.versions ?? []} />
          <div className="jp-colearn-actions">
            <button
              className="jp-colearn-button jp-mod-accept"
              data-testid="colearn-contribute"
              disabled={props.busy || !!props.blocked}
              title={props.blocked || 'Contribute a CSV or Parquet file under the server\'s root directory'}
              onClick={props.onContribute}
            >
              Contribute file…
            </button>
            {props.offersRetrain && (
              <button
                className="jp-colearn-button"
                data-testid="colearn-retrain"
                disabled={props.busy || !!props.blocked}
                title={
                  props.blocked ||
                  'Retrain on the accepted rows and publish a new version (needs the hidden test set in this server\'s home)'
                }
                onClick={props.onRetrain}
              >
                Retrain
              </button>
            )}
          </div>
          <ActingNote note={props.actingNote ?? ''} testid="colearn-acting-contribute" />
        </>
      )}
      <ErrorLine error={props.actionError} testid="colearn-error-contribute" />
      <MessageLine message={props.message} testid="colearn-message-contribute" />
    </DetailCard>
  );
}
