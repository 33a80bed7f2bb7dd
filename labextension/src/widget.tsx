import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { Sidebar, StatusItem } from './components/Sidebar';
import { colearnIcon } from './icons';
import { ColearnModel } from './model';

/** The left sidebar panel (id `colearn-sidebar`). */
export class ColearnSidebar extends ReactWidget {
  constructor(
    readonly model: ColearnModel,
    private readonly _onContribute: (modelId: number) => void
  ) {
    super();
    this.id = 'colearn-sidebar';
    this.addClass('jp-colearn-SidebarWidget');
    this.title.icon = colearnIcon;
    this.title.caption = 'colearn';
    this.node.setAttribute('data-testid', 'colearn-sidebar');
  }

  render(): JSX.Element {
    return <Sidebar model={this.model} onContribute={this._onContribute} />;
  }
}

/** The status bar item: `colearn: <devnet|chain id> · <account> · <n> to verify`. */
export class ColearnStatusWidget extends ReactWidget {
  constructor(
    readonly model: ColearnModel,
    private readonly _onClick: () => void
  ) {
    super();
    this.addClass('jp-colearn-StatusWidget');
  }

  render(): JSX.Element {
    return <StatusItem model={this.model} onClick={this._onClick} />;
  }
}
