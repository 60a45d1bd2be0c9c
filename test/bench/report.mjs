// Rows of the results table and their formatting.

export const seconds = (ms) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
export const megabytes = (bytes) => (bytes === null ? 'n/a' : `${(bytes / 1e6).toFixed(bytes < 10e6 ? 2 : 1)} MB`);
/** Peak RSS as GNU time reports it (KiB), in MB like the targets. */
export const rssOf = (kb) => (kb === null || kb === undefined ? 'n/a' : megabytes(kb * 1024));
/** Cores busy on average over the run: CPU seconds per wall second. */
export const coresOf = (summary) => (summary.cpuSeconds === null || !summary.wallMs ? null : summary.cpuSeconds / (summary.wallMs / 1000));
export const cores = (value) => (value === null ? 'n/a' : `${value.toFixed(2)} cores`);
export const cpuOf = (summary) => (summary.cpuSeconds === null ? 'n/a' : `${summary.cpuSeconds.toFixed(2)} s`);
/** Peak RSS of ours and the baseline, for the table's last column. */
export const rssPair = (ours, baseline) => `${rssOf(ours.maxRssKb)} / ${baseline ? rssOf(baseline.maxRssKb) : '-'}`;

/**
 * One comparison: `ratio` is ours / baseline; the target is a bound on it
 * (`max`, or `min` for rates where higher is better).
 */
export function ratioRow({ id, scenario, ours, baseline, format, max, min, rss = '', note = '' }) {
  const ratio = ours === null || baseline === null || baseline === 0 ? null : ours / baseline;
  const pass = ratio === null ? null : max !== undefined ? ratio <= max : ratio >= min;
  return {
    id,
    scenario,
    ours: format(ours),
    baseline: format(baseline),
    ratio: ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`,
    target: max !== undefined ? `≤ ${max}×` : `≥ ${min}×`,
    pass,
    rss,
    note,
  };
}

/** An absolute bound (peak RSS, a rate): no baseline to divide by. */
export function limitRow({ id, scenario, ours, format, max, min, rss = '', note = '' }) {
  const pass = ours === null ? null : max !== undefined ? ours <= max : ours >= min;
  return {
    id,
    scenario,
    ours: format(ours),
    baseline: '-',
    ratio: '-',
    target: max !== undefined ? `≤ ${format(max)}` : `≥ ${format(min)}`,
    pass,
    rss,
    note,
  };
}

/** A measurement kept for the record whose target was settled by a decision (docs/performance.md says which). */
export const decidedRow = (row) => ({ ...row, target: 'decided', pass: null });

export const skippedRow = (id, scenario, why) => ({
  id,
  scenario,
  ours: '-',
  baseline: '-',
  ratio: '-',
  target: '-',
  pass: null,
  rss: '',
  note: `skipped: ${why}`,
});

export const failedRow = (id, why) => ({ ...skippedRow(id, 'scenario failed', ''), pass: false, note: `error: ${why.slice(0, 200)}` });

/** The markdown table docs/performance.md shows. */
export function markdownTable(rows) {
  const header = ['#', 'scenario', 'ours', 'baseline', 'ratio', 'target', 'result', 'peak RSS (ours / baseline)'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const result = row.pass === null ? '-' : row.pass ? 'pass' : '**FAIL**';
    const scenario = row.note ? `${row.scenario} (${row.note})` : row.scenario;
    const cells = [row.id, scenario, row.ours, row.baseline, row.ratio, row.target, result, row.rss];
    lines.push(`| ${cells.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}
