import type { HistoryEntry } from '../../channel/history.js';
import type { WhitelistMeta } from '../../protocol/whitelist.js';
import { percent, type ReleaseHealth } from '../health.js';
import { empty, enc, scrollTable, when } from './layout.js';
import { html, type Markup } from './markup.js';

export interface HistoryFilter {
  package?: string;
  action?: string;
  actor?: string;
}

export const matchesFilter = (entry: HistoryEntry & { package: string }, filter: HistoryFilter) =>
  (!filter.package || entry.package === filter.package) &&
  (!filter.action || entry.action === filter.action) &&
  (!filter.actor || entry.actor.toLowerCase().includes(filter.actor.toLowerCase()));

const choices = (values: string[], chosen: string | undefined) =>
  [...new Set(values)].sort().map((value) => html`<option value=${value} selected=${value === chosen}>${value}</option>`);

/** A channel's history across packages, newest first, filtered by a plain GET form (shareable URLs). */
export function historyContent(channel: string, entries: Array<HistoryEntry & { package: string }>, filter: HistoryFilter): Markup {
  const shown = entries.filter((entry) => matchesFilter(entry, filter));
  const table = html`<table>
    <caption>${shown.length} of ${entries.length} changes on ${channel}</caption>
    <thead><tr><th scope="col">When</th><th scope="col">Package</th><th scope="col">Action</th><th scope="col">Version</th><th scope="col">Change</th><th scope="col">Who</th></tr></thead>
    <tbody>
      ${shown.map(
        (entry) => html`<tr>
          <td>${when(entry.at)}</td>
          <th scope="row"><a href=${`/channels/${enc(channel)}/packages/${enc(entry.package)}/releases/${enc(entry.version)}`}>${entry.package}</a></th>
          <td>${entry.action}${(entry.details as { automatic?: boolean }).automatic ? ' (automatic)' : ''}</td>
          <td>${entry.version}</td>
          <td>${entry.from !== undefined || entry.to !== undefined ? `${entry.from ?? '—'} → ${entry.to ?? '—'}` : ''}</td>
          <td class="actor">${entry.actor}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
  return html`
    <form method="get" class="filters" aria-label="Filter history">
      <label for="filter-package">Package</label>
      <select id="filter-package" name="package"><option value="">any</option>${choices(entries.map((entry) => entry.package), filter.package)}</select>
      <label for="filter-action">Action</label>
      <select id="filter-action" name="action"><option value="">any</option>${choices(entries.map((entry) => entry.action), filter.action)}</select>
      <label for="filter-actor">Who</label>
      <input id="filter-actor" name="actor" value=${filter.actor ?? ''} autocomplete="off" />
      <button type="submit">Filter</button>
    </form>
    ${entries.length ? scrollTable('history', table) : empty(`no history on ${channel} yet`)}`;
}

export function whitelistsContent(lists: Array<WhitelistMeta & { usedBy: string[] }>): Markup {
  const table = html`<table>
    <caption>Whitelists in the store</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Ids</th><th scope="col">Shards</th><th scope="col">Upload</th><th scope="col">Uploaded</th><th scope="col">Named by</th></tr></thead>
    <tbody>
      ${lists.map(
        (list) => html`<tr>
          <th scope="row">${list.name}</th><td>${list.count}</td><td>${list.shards}</td><td>${list.version ?? '—'}</td><td>${when(list.uploadedAt)}</td>
          <td>${list.usedBy.length ? html`<ul>${list.usedBy.map((user) => html`<li>${user}</li>`)}</ul>` : 'nothing (unused)'}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
  return lists.length ? scrollTable('whitelists', table) : empty("no whitelists yet: 'update-publish whitelist upload <name> <file>' adds one");
}

/** Every rolling release with receipts, worst failure rate first (by the interval's lower end: the evidence, not the noise). */
export function healthContent(rows: ReleaseHealth[] | null, now: Date): Markup {
  if (rows === null) {
    return empty("no receipts source: start the console with --receipts <source> (or set receipts.source in the config) to see what devices report");
  }
  const sorted = [...rows].sort((a, b) => (b.failureRateLower ?? -1) - (a.failureRateLower ?? -1) || (b.failureRate ?? -1) - (a.failureRate ?? -1));
  const newest = rows.map((row) => row.newestAt).filter((at): at is string => at !== null).sort().pop();
  const ageHours = newest ? (now.getTime() - Date.parse(newest)) / 3_600_000 : null;
  const table = html`<table>
    <caption>Releases by failure rate, worst first${newest ? html`; newest receipt ${when(newest)}` : ''}</caption>
    <thead><tr><th scope="col">Release</th><th scope="col">Channel</th><th scope="col">Installs</th><th scope="col">Launches</th><th scope="col">Failure rate</th><th scope="col">95 % interval</th></tr></thead>
    <tbody>
      ${sorted.map(
        (row) => html`<tr>
          <th scope="row"><a href=${`/channels/${enc(row.channel)}/packages/${enc(row.package)}/releases/${enc(row.version)}`}>${row.package}@${row.version}</a></th>
          <td>${row.channel}</td><td>${row.installs}</td><td>${row.launches}</td><td>${percent(row.failureRate)}</td>
          <td>${percent(row.failureRateLower)}–${percent(row.failureRateUpper)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
  return html`
    ${ageHours !== null && ageHours > 2 && html`<p class="warning" role="note">The newest receipt is ${Math.floor(ageHours)} hours old: logs arrive late, or devices stopped reporting.</p>`}
    ${rows.length ? scrollTable('release health', table) : empty('no receipts yet for any release')}`;
}
