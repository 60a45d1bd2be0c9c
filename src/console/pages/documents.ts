import { describeRules } from '../../release/rules.js';
import type { TargetingRules } from '../../protocol/types.js';
import { empty, scrollTable, when } from './layout.js';
import { html, type Markup } from './markup.js';

interface HistoryLine {
  at: string;
  actor: string;
  action: string;
  version?: number;
  keys?: string[];
  platform?: string;
  appVersion?: string;
}

const historyList = (entries: HistoryLine[], describe: (entry: HistoryLine) => string) =>
  entries.length
    ? html`<ol class="timeline">${entries.map((entry) => html`<li>${when(entry.at)}: <strong>${entry.action}</strong> ${describe(entry)} by <span class="actor">${entry.actor}</span></li>`)}</ol>`
    : empty('no changes yet');

const shown = (value: unknown) => JSON.stringify(value);

export interface SwitchesData {
  channel: string;
  documentVersion: number;
  updatedAt: string | null;
  switches: Array<{ key: string; type: string | null; default: unknown; variants: Array<{ variant: number; value: unknown; rules: TargetingRules }> }>;
  history: HistoryLine[];
}

export function switchesContent(data: SwitchesData, readOnly: boolean): Markup {
  const common = { 'data-channel': data.channel, 'data-expect': data.documentVersion };
  const table = html`<table>
    <caption>Switches on ${data.channel}: document version ${data.documentVersion}, updated ${when(data.updatedAt)}</caption>
    <thead><tr><th scope="col">Key</th><th scope="col">Type</th><th scope="col">Default</th><th scope="col">Variants</th>${!readOnly && html`<th scope="col">Actions</th>`}</tr></thead>
    <tbody>
      ${data.switches.map(
        (entry) => html`<tr data-key=${entry.key}>
          <th scope="row">${entry.key}</th>
          <td>${entry.type ?? '—'}</td>
          <td><code>${shown(entry.default)}</code></td>
          <td>${entry.variants.length ? html`<ul>${entry.variants.map((variant) => html`<li><code>${shown(variant.value)}</code> for ${describeRules(variant.rules)}</li>`)}</ul>` : '—'}</td>
          ${!readOnly && html`<td><button type="button" class="action" data-action="switch-rm" data-key=${entry.key} ...${common} aria-label=${`Remove switch ${entry.key}`}>Remove</button></td>`}
        </tr>`,
      )}
    </tbody>
  </table>`;
  return html`
    ${data.switches.length ? scrollTable('switches', table) : empty(`no switches on ${data.channel} yet`)}
    ${!readOnly &&
    html`<form class="action" data-action="switch-set" ...${common}>
      <h2>Set a switch's default</h2>
      <label for="switch-key">Key</label> <input id="switch-key" name="key" required pattern="[A-Za-z][A-Za-z0-9._\\-]*" autocomplete="off" />
      <label for="switch-value">Value (JSON)</label> <input id="switch-value" name="value" required autocomplete="off" placeholder='true, 42, "blue"' />
      <button type="submit">Set</button>
    </form>`}
    <h2>History</h2>
    ${historyList(data.history, (entry) => `${(entry.keys ?? []).join(', ')} (version ${entry.version ?? '—'})`)}`;
}

export interface AppReleasesData {
  channel: string;
  documentVersion: number;
  updatedAt: string | null;
  releases: Array<{ platform: string; version: string; state: string; rules: TargetingRules & { mandatory?: boolean }; url?: string; message?: string }>;
  history: HistoryLine[];
}

export function appReleasesContent(data: AppReleasesData): Markup {
  const table = html`<table>
    <caption>App releases on ${data.channel}: document version ${data.documentVersion}, updated ${when(data.updatedAt)}</caption>
    <thead><tr><th scope="col">Platform</th><th scope="col">App version</th><th scope="col">State</th><th scope="col">Rules</th><th scope="col">Notes</th></tr></thead>
    <tbody>
      ${data.releases.map(
        (release) => html`<tr>
          <th scope="row">${release.platform}</th><td>${release.version}</td><td>${release.state}</td>
          <td>${describeRules(release.rules)}${release.rules.mandatory ? '; mandatory' : ''}</td><td>${release.message ?? '—'}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
  return html`
    ${data.releases.length ? scrollTable('app releases', table) : empty(`no app releases on ${data.channel} yet`)}
    <h2>History</h2>
    ${historyList(data.history, (entry) => `${entry.platform ?? ''} ${entry.appVersion ?? ''} (version ${entry.version ?? '—'})`)}`;
}
