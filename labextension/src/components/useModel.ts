import { useEffect, useState } from 'react';

import { ColearnModel } from '../model';

/** Re-render when the model's state changes; returns the model. */
export function useModel(model: ColearnModel): ColearnModel {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    model.stateChanged.connect(onChange);
    return () => {
      model.stateChanged.disconnect(onChange);
    };
  }, [model]);
  return model;
}
