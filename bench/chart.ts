/** What the chart draws, from the bench's results. */
export interface ChartInput {
  startedAt: string;
  endToEnd?: { tasks: number; completionsPerSecond: number[]; latencyHistogram: number[] } | undefined;
  submits: Array<{ connections: number; batch: boolean; latencyMs: { p50: number; p95: number; p99: number } }>;
}

const WIDTH = 900;
const PLOT = 720;
const LEFT = 170;

/** Vertical bars of `series`, one per second, with a caption and an axis. */
function barPanel(top: number, title: string, series: number[], unit: (i: number, n: number) => string, color: string): string {
  const max = Math.max(1, ...series);
  const barWidth = PLOT / Math.max(1, series.length);
  const bars = series
    .map((n, i) => {
      const height = (n / max) * 120;
      return `<rect x="${(LEFT + i * barWidth).toFixed(1)}" y="${(top + 150 - height).toFixed(1)}" width="${Math.max(1, barWidth - 1).toFixed(1)}" height="${height.toFixed(1)}" fill="${color}"><title>${unit(i, n)}</title></rect>`;
    })
    .join('');
  return `<text x="0" y="${top + 16}" font-size="14" font-weight="bold">${title}</text>
<text x="0" y="${top + 36}" font-size="12">max ${max}, ${series.length} s</text>${bars}
<line x1="${LEFT}" y1="${top + 150}" x2="${LEFT + PLOT}" y2="${top + 150}" stroke="#999"/>
<text x="${LEFT}" y="${top + 166}" font-size="11">0 s</text><text x="${LEFT + PLOT - 30}" y="${top + 166}" font-size="11">${series.length} s</text>`;
}

/** One standalone SVG: completions per second, the submit→complete latency histogram, and the submit latency percentiles. */
export function renderChart(results: ChartInput): string {
  const completions = results.endToEnd?.completionsPerSecond ?? [];
  const histogram = results.endToEnd?.latencyHistogram ?? [];
  const latencyTop = 380;
  const latencyMax = Math.max(1, ...results.submits.map((s) => s.latencyMs.p99));
  const rows = results.submits
    .map((s, i) => {
      const y = latencyTop + 30 + i * 34;
      const bar = (value: number, color: string, dy: number) =>
        `<rect x="${LEFT}" y="${y + dy}" width="${((value / latencyMax) * (PLOT - 230)).toFixed(1)}" height="8" fill="${color}"><title>${value.toFixed(0)} ms</title></rect>`;
      return `<text x="0" y="${y + 14}" font-size="12">${s.batch ? 'batch of 10' : 'single'}, ${s.connections} conn.</text>${bar(s.latencyMs.p50, '#0b5cad', 0)}${bar(s.latencyMs.p95, '#8a6d00', 9)}${bar(s.latencyMs.p99, '#b3261e', 18)}<text x="${LEFT + 5 + (s.latencyMs.p99 / latencyMax) * (PLOT - 230)}" y="${y + 26}" font-size="11">p50 ${s.latencyMs.p50.toFixed(0)} / p95 ${s.latencyMs.p95.toFixed(0)} / p99 ${s.latencyMs.p99.toFixed(0)} ms</text>`;
    })
    .join('');
  const height = latencyTop + 40 + results.submits.length * 34;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" font-family="system-ui, sans-serif" role="img" aria-label="Task service bench ${results.startedAt}">
<rect width="100%" height="100%" fill="#fff"/>
${barPanel(0, `End to end (${results.endToEnd?.tasks ?? 0} tasks): completions per second`, completions, (i, n) => `${i}–${i + 1} s: ${n} tasks`, '#1e7a34')}
${barPanel(185, 'End to end: tasks by submit→complete latency (1 s buckets)', histogram, (i, n) => `${i}–${i + 1} s: ${n} tasks`, '#5b3a8c')}
<text x="0" y="${latencyTop + 16}" font-size="14" font-weight="bold">Submit latency: p50 (blue), p95 (amber), p99 (red); ${results.startedAt}</text>
${rows}
</svg>
`;
}
