/** Human units for sizes, rates and durations (terminal output and release emails). */

/** Binary units, labelled as such: 1 MiB is 1,048,576 bytes (an "MB" would be 1,000,000). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export const formatDuration = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** `1 file`, `2 files`: a count with its noun, singular for one. */
export const plural = (count: number, singular: string, pluralForm = `${singular}s`) => `${count} ${count === 1 ? singular : pluralForm}`;

/** Before this much of the work or time, a rate says too little for an estimate. */
const MIN_ESTIMATE_MS = 500;

/**
 * Bytes done of a known total with the share and, once the rate says
 * something, the time left: `12.0 MiB / 300 MiB (4%, 2.0 MiB/s, 2 min 24 s left)`.
 */
export function formatProgress(doneBytes: number, totalBytes: number, startedAt: number, now = Date.now()): string {
  const share = totalBytes > 0 ? Math.min(100, Math.floor((doneBytes / totalBytes) * 100)) : 100;
  const elapsed = now - startedAt;
  const parts = [`${share}%`];
  if (elapsed >= MIN_ESTIMATE_MS && doneBytes > 0) {
    const rate = doneBytes / (elapsed / 1000);
    parts.push(`${formatBytes(rate)}/s`);
    if (doneBytes < totalBytes) parts.push(`${formatTimeLeft(((totalBytes - doneBytes) / rate) * 1000)} left`);
  }
  return `${formatBytes(doneBytes)} / ${formatBytes(totalBytes)} (${parts.join(', ')})`;
}

function formatTimeLeft(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A plain aligned table: no colours inside, so it reads the same in CI logs. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Terminal control characters: C0 but tab and newline, DEL, C1. ESC starts sequences that retitle, recolour or rewrite a terminal. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** The colour sequences chalk writes (SGR): the only ones output keeps, and only while colour is on. */
const SGR = /\u001b\[[0-9;]*m/y;

/**
 * Text stored by someone else (release notes, an actor, a hook's output) made
 * safe to print: every control character is shown as `\xNN`. With
 * `keepColour`, SGR colour sequences stay (the output's own chalk colours).
 */
export function escapeControls(text: string, keepColour = false): string {
  return text.replace(CONTROL, (char, offset: number) => {
    if (keepColour && char === '\u001b') {
      SGR.lastIndex = offset;
      if (SGR.test(text)) return char;
    }
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** A control character other than tab and newline, or undefined: what messages may not hold. */
export const controlCharacterIn = (text: string): string | undefined => {
  const found = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(text);
  return found ? `\\x${found[0].charCodeAt(0).toString(16).padStart(2, '0')}` : undefined;
};
