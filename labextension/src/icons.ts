import { LabIcon } from '@jupyterlab/ui-components';

/** Three linked nodes: the colearn mark (fills follow the theme through `jp-icon3`). */
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <circle cx="6" cy="7" r="3"/>
    <circle cx="18" cy="7" r="3"/>
    <circle cx="12" cy="18" r="3"/>
    <path d="M8.6 8.5l2.3 6.6 1.9-.7-2.3-6.6zM15.4 8.5l-2.3 6.6-1.9-.7 2.3-6.6zM9 6h6v2H9z"/>
  </g>
</svg>`;

export const colearnIcon = new LabIcon({ name: 'colearn:icon', svgstr });
