import type { ReleaseHealth } from '../health.js';
import { healthKey, percent } from '../health.js';
import type { ChannelView, PackageView } from '../state.js';
import { empty, enc, scrollTable, when } from './layout.js';
import { html, type Markup } from './markup.js';

/** The state as a word (never colour alone), styled by class. */
export const stateBadge = (state: string, rollout: number) =>
  html`<span class=${`state state-${state.replace(' ', '-')}`}>${state === 'rolling out' ? `rolling out ${rollout}%` : state}</span>`;

/** The rollout as a labelled meter: screen readers hear the share, eyes see the bar. */
export const rolloutMeter = (rollout: number) =>
  html`<meter min="0" max="100" value=${rollout} aria-label=${`rollout ${rollout}%`}>${rollout}%</meter> <span>${rollout}%</span>`;

const releaseHref = (channel: string, id: string, version: string) => `/channels/${enc(channel)}/packages/${enc(id)}/releases/${enc(version)}`;

/**
 * The row's action buttons. What they act on (channel, index version,
 * package, version) sits once on the table and the row, where console.js
 * finds it: 1,000 rows stay small.
 */
function packageActions(view: ChannelView, item: PackageView): Markup | string {
  const served = item.served;
  if (!served) return '';
  const button = (action: string, label: string) =>
    html`<button type="button" class="action" data-action=${action} aria-label=${`${label.replace('…', '')} ${item.id} ${served.version} on ${view.channel}`}>${label}</button>`;
  return html`${served.state === 'halted' ? button('resume', 'Resume') : button('halt', 'Halt')}${served.state !== 'halted' && served.rollout < 100 ? button('rollout', 'Rollout…') : ''}${button('rollback', 'Rollback…')}`;
}

function packageRow(view: ChannelView, item: PackageView, health: Map<string, ReleaseHealth> | null, readOnly: boolean): Markup {
  const served = item.served;
  const outcome = served && health?.get(healthKey(view.channel, item.id, served.version));
  return html`<tr data-package=${item.id} data-version=${served?.version} data-percent=${served?.rollout}>
    <th scope="row">${item.id}</th>
    <td class="version">${served ? html`<a href=${releaseHref(view.channel, item.id, served.version)}>${served.version}</a>` : '—'}</td>
    <td class="serving">${served ? stateBadge(served.state, served.rollout) : html`<span class="state">every release rolled back</span>`}</td>
    <td class="rollout">${served ? rolloutMeter(served.rollout) : '—'}</td>
    <td class="rules">${served ? `${served.rules}${served.mandatory ? '; mandatory' : ''}` : ''}</td>
    <td class="change">${
      item.lastChange
        ? html`${item.lastChange.action} ${item.lastChange.version} by <span class="actor">${item.lastChange.actor}</span>, ${when(item.lastChange.at)}${
            item.lastChange.message ? html`<br /><q>${item.lastChange.message}</q>` : ''
          }`
        : '—'
    }</td>
    ${health && html`<td class="health">${outcome ? html`${outcome.installs} installs; failures ${percent(outcome.failureRate)}` : 'no receipts'}</td>`}
    ${!readOnly && html`<td class="actions">${packageActions(view, item)}</td>`}
  </tr>`;
}

export function channelSection(view: ChannelView, health: Map<string, ReleaseHealth> | null, readOnly: boolean, heading: boolean): Markup {
  const table = html`<table class="overview" data-channel=${view.channel} data-expect=${view.version}>
    <caption>
      ${heading ? html`<a href=${`/channels/${enc(view.channel)}`}>${view.channel}</a>` : view.channel}: index version ${view.version}, updated ${when(view.updatedAt)}, expires ${when(view.expires)}
    </caption>
    <thead>
      <tr>
        <th scope="col">Package</th><th scope="col">Served</th><th scope="col">State</th><th scope="col">Rollout</th><th scope="col">Rules</th><th scope="col">Last change</th>
        ${health && html`<th scope="col">Devices</th>`}
        ${!readOnly && html`<th scope="col">Actions</th>`}
      </tr>
    </thead>
    <tbody>
      ${view.packages.map((item) => packageRow(view, item, health, readOnly))}
    </tbody>
  </table>`;
  return html`<section aria-label=${`channel ${view.channel}`}>
    ${heading && html`<h2>${view.channel}</h2>`}
    ${view.packages.length ? scrollTable(`packages on ${view.channel}`, table) : empty(`nothing released on ${view.channel} yet`)}
  </section>`;
}

export function overviewContent(views: ChannelView[], health: ReleaseHealth[] | null, readOnly: boolean, single: boolean): Markup {
  if (views.length === 0) return empty("no channels in this store yet: run 'update-publish publish'");
  const byRelease = health && new Map(health.map((row) => [healthKey(row.channel, row.package, row.version), row]));
  return html`${views.map((view) => channelSection(view, byRelease, readOnly, !single))}`;
}
