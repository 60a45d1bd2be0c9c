/**
 * The console's server-rendered pages: every value from the store is text,
 * never markup (a release note or switch value cannot script the page), and
 * the overview says what status says.
 */
import { describe, expect, it } from 'vitest';
import { channelView, servingLabel } from '../../src/console/state.js';
import { html } from '../../src/console/pages/markup.js';
import { overviewContent } from '../../src/console/pages/overview.js';
import type { ChannelIndex, Release } from '../../src/protocol/types.js';

const release = (version: string, overrides: Partial<Release> = {}): Release => ({
  version,
  releasedAt: '2026-12-01T00:00:00.000Z',
  manifest: { key: `packages/maps/${version}/manifest.json`, sha256: 'a'.repeat(64), size: 10 },
  full: { key: `packages/maps/${version}/full.zip`, size: 100, sha256: 'b'.repeat(64) },
  deltas: [],
  rules: { rollout: 100, rolloutBasisPoints: 10000, mandatory: false },
  state: 'active',
  ...overrides,
});

const index = (releases: Release[]): ChannelIndex => ({ schemaVersion: 1, channel: 'production', updatedAt: '2026-12-01T00:00:00.000Z', version: 7, packages: { maps: { releases } } });
const now = new Date('2026-12-02T00:00:00Z');

describe('console pages', () => {
  it('escapes every value: a hostile release note, package name or actor is shown as text', () => {
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    const view = channelView(index([release('1.0.0', { message: hostile })]), new Map([['maps', [{ at: now.toISOString(), actor: '<b>eve</b>', action: 'edit', version: '1.0.0', details: { current: { message: hostile } } }]]]), now);
    const markup = overviewContent([view], null, false, true).text;
    expect(markup).not.toContain('<img');
    expect(markup).not.toContain('<b>eve');
    expect(markup).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    expect(markup).toContain('&lt;b&gt;eve&lt;/b&gt;');
    // Attributes too: a value cannot close its quote.
    expect(html`<p title=${'"><script>'}></p>`.text).toBe('<p title="&quot;&gt;&lt;script&gt;"></p>');
  });

  it('keeps zero (a rollout of 0 %) and drops only absent values', () => {
    expect(html`<span>${0}</span><span>${null}${undefined}${false}</span>`.text).toBe('<span>0</span><span></span>');
  });

  it('names the state as status does: rolling out, live, halted, scheduled, ended', () => {
    expect(servingLabel(release('1', { rules: { rollout: 10, mandatory: false } }), now)).toBe('rolling out');
    expect(servingLabel(release('1'), now)).toBe('live');
    expect(servingLabel(release('1', { state: 'halted' }), now)).toBe('halted');
    expect(servingLabel(release('1', { rules: { rollout: 100, mandatory: false, startsAt: '2026-12-03T00:00:00.000Z' } }), now)).toBe('scheduled');
    expect(servingLabel(release('1', { rules: { rollout: 100, mandatory: false, endsAt: '2026-12-01T12:00:00.000Z' } }), now)).toBe('ended');
  });

  it('shows the release devices are served: the newest not rolled back, with the index version a write must still find', () => {
    const view = channelView(index([release('1.0.2', { state: 'rolled-back' }), release('1.0.1', { rules: { rollout: 25, mandatory: true } }), release('1.0.0')]), new Map(), now);
    expect(view.version).toBe(7);
    expect(view.packages[0]).toMatchObject({ id: 'maps', releases: 3, served: { version: '1.0.1', state: 'rolling out', rollout: 25, mandatory: true } });
  });
});
