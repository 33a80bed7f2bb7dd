import * as React from 'react';

import { accuracyChart, formatAccuracy } from '../model';
import { IVersion } from '../tokens';

export interface IAccuracyChartProps {
  versions: IVersion[];
  width?: number;
  height?: number;
}

/** The accuracy of every version as a small inline SVG line chart (no chart library). */
export function AccuracyChart(props: IAccuracyChartProps): JSX.Element {
  const width = props.width ?? 240;
  const height = props.height ?? 80;
  const pad = 10;
  const chart = accuracyChart(props.versions, width, height, pad);
  if (chart.points.length === 0) {
    return (
      <div className="jp-colearn-chart-empty" data-testid="colearn-accuracy-chart">
        No published version yet.
      </div>
    );
  }
  const first = chart.points[0];
  const last = chart.points[chart.points.length - 1];
  return (
    <svg
      className="jp-colearn-chart"
      data-testid="colearn-accuracy-chart"
      role="img"
      aria-label={`Accuracy of ${chart.points.length} versions, latest ${formatAccuracy(last.accuracy)}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
    >
      <line className="jp-colearn-chart-axis" x1={pad} y1={height - pad} x2={width - pad} y2={height - pad} />
      <line className="jp-colearn-chart-axis" x1={pad} y1={pad} x2={pad} y2={height - pad} />
      <text className="jp-colearn-chart-label" x={pad + 2} y={pad + 8}>
        {formatAccuracy(chart.yMax)}
      </text>
      <text className="jp-colearn-chart-label" x={pad + 2} y={height - pad - 3}>
        {formatAccuracy(chart.yMin)}
      </text>
      <path className="jp-colearn-chart-line" d={chart.path} />
      {chart.points.map(p => (
        <circle key={p.version} className="jp-colearn-chart-point" cx={p.x} cy={p.y} r={3}>
          <title>{`v${p.version}: ${formatAccuracy(p.accuracy)}`}</title>
        </circle>
      ))}
      {chart.points.length > 1 && (
        <text className="jp-colearn-chart-label" x={width - pad} y={height - 1} textAnchor="end">
          {`v${first.version} → v${last.version}`}
        </text>
      )}
    </svg>
  );
}
