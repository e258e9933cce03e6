/** A self-contained HTML page with SVG charts: completions per second, and the submit latency percentiles. */
export function renderChart(results: {
  startedAt: string;
  endToEnd?: { completionsPerSecond: number[]; submitToCompleteMs: { p50: number; p95: number; p99: number } } | undefined;
  submits: Array<{ connections: number; batch: boolean; latencyMs: { p50: number; p95: number; p99: number } }>;
}): string {
  const series = results.endToEnd?.completionsPerSecond ?? [];
  const max = Math.max(1, ...series);
  const width = 800;
  const barWidth = width / Math.max(1, series.length);
  const bars = series
    .map((n, i) => `<rect x="${(i * barWidth).toFixed(1)}" y="${(200 - (n / max) * 180).toFixed(1)}" width="${Math.max(1, barWidth - 1).toFixed(1)}" height="${((n / max) * 180).toFixed(1)}" fill="#1e7a34"><title>${i} s: ${n} tasks</title></rect>`)
    .join('');
  const latencyMax = Math.max(1, ...results.submits.map((s) => s.latencyMs.p99));
  const rows = results.submits
    .map((s, i) => {
      const y = 20 + i * 34;
      const bar = (value: number, color: string, dy: number) =>
        `<rect x="170" y="${y + dy}" width="${((value / latencyMax) * 600).toFixed(1)}" height="8" fill="${color}"><title>${value.toFixed(0)} ms</title></rect>`;
      return `<text x="0" y="${y + 14}" font-size="12">${s.batch ? 'batch' : 'single'}, ${s.connections} conn.</text>${bar(s.latencyMs.p50, '#0b5cad', 0)}${bar(s.latencyMs.p95, '#8a6d00', 9)}${bar(s.latencyMs.p99, '#b3261e', 18)}<text x="${175 + (s.latencyMs.p99 / latencyMax) * 600}" y="${y + 26}" font-size="11">p99 ${s.latencyMs.p99.toFixed(0)} ms</text>`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Task service bench ${results.startedAt}</title>
<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:1rem auto}svg{width:100%;background:#fafafa}</style></head><body>
<h1>Task service bench, ${results.startedAt}</h1>
<h2>End to end: completions per second (max ${max})</h2>
<svg viewBox="0 0 ${width} 210" role="img" aria-label="completions per second">${bars}<line x1="0" y1="200" x2="${width}" y2="200" stroke="#999"/></svg>
<h2>Submit latency: p50 (blue), p95 (amber), p99 (red)</h2>
<svg viewBox="0 0 900 ${20 + results.submits.length * 34}" role="img" aria-label="submit latency">${rows}</svg>
</body></html>
`;
}
