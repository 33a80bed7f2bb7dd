import * as React from 'react';

import { ColearnModel } from '../model';
import { ErrorLine, MessageLine } from './Feedback';

/**
 * Time travel, an instructor's action: a duration and "Advance clock", with what it does. Shown only where the
 * chain's clock can be moved (the devnet or a development node on this machine); it acts as the account box's
 * account, and a refusal (a student in a class, a read-only server) is shown under it.
 */
export function ClockControl(props: { model: ColearnModel }): JSX.Element | null {
  const { model } = props;
  if (!model.timeTravel) {
    return null;
  }
  const clock = model.clock;
  const blocked = model.blockedReason('account');
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    void model.advanceClock();
  };
  return (
    <div className="jp-colearn-clock" data-testid="colearn-clock">
      <div className="jp-colearn-subtitle">Clock</div>
      <form className="jp-colearn-controls" onSubmit={submit}>
        <input
          className="jp-colearn-input jp-colearn-duration"
          aria-label="How far to move the clock"
          placeholder="1h"
          data-testid="colearn-clock-duration"
          value={clock.duration}
          maxLength={32}
          onChange={e => model.setClockDuration(e.target.value)}
        />
        <button
          className="jp-colearn-button"
          type="submit"
          data-testid="colearn-clock-advance"
          disabled={clock.busy || !!blocked}
          title={blocked || 'Move the chain\'s clock forward by this duration (90s, 10m, 1h30m, 2d)'}
        >
          Advance clock
        </button>
      </form>
      <div className="jp-colearn-note" data-testid="colearn-clock-why">
        Moves the clock for everyone on this chain, e.g. to let a challenge window pass; in a class, only the
        instructor may.
      </div>
      <ErrorLine error={clock.error} testid="colearn-error-clock" />
      <MessageLine message={clock.message} testid="colearn-message-clock" />
    </div>
  );
}
