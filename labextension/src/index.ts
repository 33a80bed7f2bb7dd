import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';

import { contributeFile } from './dialogs';
import { colearnIcon } from './icons';
import { ColearnModel, SectionId } from './model';
import { CommandIDs } from './tokens';
import { ColearnSidebar, ColearnStatusWidget } from './widget';

const PLUGIN_ID = '@colearn/jupyter:plugin';
const CATEGORY = 'colearn';
/** Ask for the status again this often while the event stream is down (ms). */
const STATUS_POLL_MS = 30000;

/**
 * The colearn sidebar (marketplace, verification queue, account), a status bar item and palette
 * commands, over the server extension's REST API under `/colearn/api/`.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'colearn-jupyter: the marketplace, verification queue and account in JupyterLab.',
  autoStart: true,
  optional: [ICommandPalette, IStatusBar, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null,
    restorer: ILayoutRestorer | null
  ) => {
    const model = new ColearnModel();
    const { commands, shell } = app;

    const contribute = (modelId: number | null) =>
      contributeFile(model, modelId).catch(error => {
        console.error('colearn: contribute failed', error);
        return false;
      });
    const sidebar = new ColearnSidebar(model, id => void contribute(id));
    shell.add(sidebar, 'left', { rank: 900, type: 'colearn' });
    if (restorer) {
      restorer.add(sidebar, PLUGIN_ID);
    }
    const show = (section?: SectionId) => {
      if (section) {
        model.setSection(section);
      }
      shell.activateById(sidebar.id);
    };

    commands.addCommand(CommandIDs.open, {
      label: 'Open the colearn sidebar',
      caption: 'Marketplace, verification queue and account',
      icon: colearnIcon,
      execute: () => show()
    });
    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh colearn',
      execute: () => model.refreshAll()
    });
    commands.addCommand(CommandIDs.contribute, {
      label: 'Contribute a file to a colearn model…',
      isEnabled: () => !model.blockedReason('account'),
      execute: async args => {
        show('market');
        const id =
          typeof args.modelId === 'number' ? args.modelId : model.market.selectedId;
        return contribute(id);
      }
    });
    commands.addCommand(CommandIDs.challengeSuggested, {
      label: 'Challenge the planned rows of the selected submission',
      isEnabled: () => model.queue.selectedId !== null && !model.queue.busy && !model.blockedReason('challenge'),
      execute: async () => {
        show('queue');
        return model.challengeSuggested();
      }
    });
    commands.addCommand(CommandIDs.resolveAuto, {
      label: 'Resolve the selected label challenge automatically',
      isEnabled: () =>
        model.queue.selectedChallengeId !== null && !model.queue.busy && !model.blockedReason('resolve'),
      execute: async () => {
        show('queue');
        return model.resolveSelected('auto');
      }
    });
    commands.addCommand(CommandIDs.answerSelected, {
      label: 'Answer the selected availability challenge (produce the demanded row)',
      isEnabled: () =>
        model.queue.selectedChallengeId !== null && !model.queue.busy && !model.blockedReason('resolve'),
      execute: async () => {
        show('queue');
        return model.answerSelected();
      }
    });
    commands.addCommand(CommandIDs.expireSelected, {
      label: 'Expire the selected challenge (past its time-out)',
      isEnabled: () =>
        model.queue.selectedChallengeId !== null && !model.queue.busy && !model.blockedReason('resolve'),
      execute: async () => {
        show('queue');
        return model.expireSelected();
      }
    });
    commands.addCommand(CommandIDs.claim, {
      label: 'Claim colearn rewards',
      isEnabled: () => !model.account.busy && !model.blockedReason('account'),
      execute: async () => {
        show('account');
        return model.claim();
      }
    });
    commands.addCommand(CommandIDs.retrain, {
      label: 'Retrain the open colearn model and publish a new version',
      isEnabled: () =>
        model.market.selectedId !== null && !model.market.busy && !model.blockedReason('account'),
      execute: async () => {
        show('market');
        const id = model.market.selectedId;
        return id === null ? null : model.retrain(id);
      }
    });
    commands.addCommand(CommandIDs.advanceClock, {
      label: 'Advance the chain\'s clock (time travel, for everyone on this chain)',
      caption: 'Moves the devnet\'s clock by the duration in the Account tab, e.g. to let a challenge window pass',
      isEnabled: () => model.timeTravel && !model.clock.busy && !model.blockedReason('account'),
      execute: async args => {
        show('account');
        if (typeof args.duration === 'string') {
          model.setClockDuration(args.duration);
        }
        return model.advanceClock();
      }
    });
    model.stateChanged.connect(() => {
      commands.notifyCommandChanged(CommandIDs.challengeSuggested);
      commands.notifyCommandChanged(CommandIDs.resolveAuto);
      commands.notifyCommandChanged(CommandIDs.answerSelected);
      commands.notifyCommandChanged(CommandIDs.expireSelected);
      commands.notifyCommandChanged(CommandIDs.claim);
      commands.notifyCommandChanged(CommandIDs.retrain);
      commands.notifyCommandChanged(CommandIDs.advanceClock);
    });

    if (palette) {
      for (const command of [
        CommandIDs.open,
        CommandIDs.refresh,
        CommandIDs.contribute,
        CommandIDs.challengeSuggested,
        CommandIDs.resolveAuto,
        CommandIDs.answerSelected,
        CommandIDs.expireSelected,
        CommandIDs.claim,
        CommandIDs.retrain,
        CommandIDs.advanceClock
      ]) {
        palette.addItem({ command, category: CATEGORY });
      }
    }

    if (statusBar) {
      statusBar.registerStatusItem(PLUGIN_ID + ':status', {
        item: new ColearnStatusWidget(model, () => show('queue')),
        align: 'left',
        rank: 50
      });
    }

    void app.restored.then(() => {
      void model.refreshAll();
      model.connectEvents();
      const poll = setInterval(() => {
        if (!model.live) {
          void model.refreshStatus();
        }
      }, STATUS_POLL_MS);
      window.addEventListener('beforeunload', () => {
        clearInterval(poll);
        model.dispose();
      });
    });
  }
};

export default plugin;
