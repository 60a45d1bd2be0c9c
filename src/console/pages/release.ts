import type { HistoryEntry } from '../../channel/history.js';
import { formatBytes } from '../../format.js';
import type { Release } from '../../protocol/types.js';
import { describeRules } from '../../release/rules.js';
import { percent, type ReleaseHealth } from '../health.js';
import { servingLabel } from '../state.js';
import { empty, scrollTable, when } from './layout.js';
import { html, type Markup } from './markup.js';
import { rolloutMeter, stateBadge } from './overview.js';

export interface ReleasePageData {
  channel: string;
  package: string;
  indexVersion: number;
  release: Release;
  /** Whether it is the release rollout, halt and resume act on now. */
  served: boolean;
  history: HistoryEntry[];
  otherVersions: string[];
  /** Channels a promotion may go to. */
  channels: string[];
  /** A receipts source is configured: a rolling release can be advanced by its policy's decision. */
  canAdvance: boolean;
}

/** What the charts draw, handed to console.js as data (never as script: the CSP forbids inline code). */
export function chartData(data: ReleasePageData, health: ReleaseHealth | undefined) {
  const stages = data.history
    .filter((entry) => entry.action === 'rollout' || entry.action === 'publish' || entry.action === 'promote')
    .map((entry) => ({
      at: entry.at,
      rollout: entry.action === 'rollout' ? Number(entry.to) : Number((entry.details as { rules?: { rollout?: number } }).rules?.rollout ?? data.release.rules.rollout),
    }))
    .filter((stage) => Number.isFinite(stage.rollout))
    .reverse();
  let installs = 0;
  return {
    stages,
    hourly: health?.hourly ?? [],
    // Adoption: devices that reported launching the release, summed hour by hour.
    adoption: (health?.hourly ?? []).map((hour) => ({ hour: hour.hour, installs: (installs += hour.launches) })),
  };
}

const field = (term: string, value: Markup | string) => html`<div><dt>${term}</dt><dd>${value}</dd></div>`;

function releaseActions(data: ReleasePageData): Markup {
  const { release } = data;
  const common = { 'data-channel': data.channel, 'data-package': data.package, 'data-version': release.version, 'data-expect': data.indexVersion };
  const others = data.otherVersions.filter((version) => version !== release.version);
  const targets = data.channels.filter((channel) => channel !== data.channel);
  return html`<section aria-labelledby="actions-title" class="release-actions">
    <h2 id="actions-title">Change this release</h2>
    ${data.served &&
    html`<form class="action" data-action="rollout" ...${common}>
      <label for="rollout-percent">Rollout percentage</label>
      <input id="rollout-percent" name="percent" type="number" min="0" max="100" step="0.01" required value=${release.rules.rollout} />
      <button type="submit">Set rollout</button>
    </form>
    <div class="actions">
      ${release.state === 'halted'
        ? html`<button type="button" class="action" data-action="resume" ...${common}>Resume</button>`
        : html`<button type="button" class="action" data-action="halt" ...${common}>Halt</button>`}
      ${data.canAdvance && release.state === 'active' && release.rules.rollout < 100 && html`<button type="button" class="action" data-action="advance" ...${common}>Advance one stage</button>`}
    </div>`}
    <form class="action" data-action="rollback" ...${common}>
      <label for="rollback-to">Roll back to</label>
      <select id="rollback-to" name="to">
        <option value="">the previous release</option>
        ${others.map((version) => html`<option value=${version}>${version}</option>`)}
      </select>
      <button type="submit">Roll back</button>
    </form>
    ${targets.length > 0 &&
    html`<form class="action" data-action="promote" data-from=${data.channel} data-package=${data.package} data-version=${release.version}>
      <label for="promote-to">Promote to channel</label>
      <select id="promote-to" name="channel">${targets.map((channel) => html`<option value=${channel}>${channel}</option>`)}</select>
      <label for="promote-percent">at rollout %</label>
      <input id="promote-percent" name="percent" type="number" min="0" max="100" step="0.01" value="100" />
      <button type="submit">Promote</button>
    </form>`}
    <form class="action" data-action="edit" ...${common}>
      <label for="edit-message">Release notes</label>
      <textarea id="edit-message" name="message" rows="2" maxlength="2000" required>${release.message ?? ''}</textarea>
      <button type="submit">Save notes</button>
    </form>
  </section>`;
}

export function releaseContent(data: ReleasePageData, health: ReleaseHealth | undefined, readOnly: boolean): Markup {
  const { release } = data;
  const deltas = html`<table>
    <caption>Deltas devices on older versions download instead of the full package</caption>
    <thead><tr><th scope="col">From</th><th scope="col">Size</th><th scope="col">Share of full</th><th scope="col">Kind</th></tr></thead>
    <tbody>
      ${release.deltas.map(
        (delta) => html`<tr><th scope="row">${delta.from}</th><td>${formatBytes(delta.size)}</td><td>${Math.round((delta.size / Math.max(1, release.full.size)) * 100)}%</td><td>${delta.patched ? 'patched (zstd)' : 'file-level'}</td></tr>`,
      )}
    </tbody>
  </table>`;
  return html`
    <dl class="facts">
      ${field('State', stateBadge(servingLabel(release, new Date()), release.rules.rollout))}
      ${field('Rollout', rolloutMeter(release.rules.rollout))}
      ${field('Rules', `${describeRules(release.rules)}${release.rules.mandatory ? '; mandatory' : ''}`)}
      ${field('Released', when(release.releasedAt))}
      ${field('Full package', formatBytes(release.full.size))}
      ${field('Notes', release.message ?? '—')}
      ${field('Commit', release.commit ?? '—')}
      ${health ? field('Devices', `${health.installs} installs, ${health.launches} launches, failure rate ${percent(health.failureRate)} (95 % interval ${percent(health.failureRateLower)}–${percent(health.failureRateUpper)})`) : ''}
    </dl>
    ${!readOnly && releaseActions(data)}
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Charts</h2>
      <div class="charts" data-chart=${JSON.stringify(chartData(data, health))}>
        <figure><figcaption id="chart-stages">Rollout stages</figcaption><div class="chart" data-series="stages" role="img" aria-labelledby="chart-stages"></div></figure>
        <figure><figcaption id="chart-hourly">Launches and failures per hour</figcaption><div class="chart" data-series="hourly" role="img" aria-labelledby="chart-hourly">${health ? '' : 'no receipts: start the console with --receipts to see device outcomes'}</div></figure>
        <figure><figcaption id="chart-adoption">Adoption over time</figcaption><div class="chart" data-series="adoption" role="img" aria-labelledby="chart-adoption">${health ? '' : 'no receipts'}</div></figure>
      </div>
    </section>
    <section aria-labelledby="deltas-title">
      <h2 id="deltas-title">Deltas</h2>
      ${release.deltas.length ? scrollTable('deltas', deltas) : empty('no deltas: every device downloads the full package')}
    </section>
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">History</h2>
      <ol class="timeline">
        ${data.history.map(
          (entry) => html`<li>${when(entry.at)}: <strong>${entry.action}</strong>${entry.from !== undefined && entry.to !== undefined ? ` ${entry.from ?? '—'} → ${entry.to ?? '—'}` : ''} by <span class="actor">${entry.actor}</span></li>`,
        )}
      </ol>
    </section>`;
}
