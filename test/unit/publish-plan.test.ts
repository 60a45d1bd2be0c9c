/** The publish plan as a value: what --dry-run and the confirmation render, decided without a store. */
import { describe, expect, it } from 'vitest';
import { contentSha256 } from '../../src/protocol/manifest.js';
import type { ManifestFile } from '../../src/protocol/types.js';
import { versionForContent } from '../../src/release/decide.js';
import { planPackage, type PlanFacts } from '../../src/release/publish-plan.js';
import { release, storedManifest as stored } from '../helpers/releases.js';

const file = (path: string, content: string): ManifestFile => ({ path, size: content.length, sha256: `sha-${content}` });

const v1 = [file('a.txt', 'a'), file('b.txt', 'b'), file('c.txt', 'c')];
const v2 = [file('a.txt', 'a'), file('b.txt', 'B2'), file('d.txt', 'dd')];
const rules = { rollout: 25, mandatory: false };

const facts = (files: ManifestFile[], overrides: Partial<PlanFacts> = {}): PlanFacts => ({
  id: 'maps',
  channel: 'production',
  files,
  contentSha256: contentSha256(files),
  channelReleases: [],
  storedManifests: [],
  unfinished: [],
  channelsOf: () => [],
  deltaCount: 3,
  request: {},
  rules,
  ...overrides,
});

describe('planPackage', () => {
  it('plans a first publish: version 1.0.0, every file added, no delta', () => {
    const plan = planPackage(facts(v1));
    expect(plan).toMatchObject({
      id: 'maps',
      status: 'publish',
      version: '1.0.0',
      previousVersion: null,
      changes: { added: 3, changed: 0, removed: 0 },
      deltasFrom: [],
      bytes: 3,
      rules,
    });
  });

  it('plans new content over the current release: the next version, the changes and a delta from what devices hold', () => {
    const plan = planPackage(facts(v2, { channelReleases: [release('1.0.0')], storedManifests: [stored('1.0.0', v1)] }));
    expect(plan).toMatchObject({
      status: 'publish',
      version: '1.0.1',
      previousVersion: '1.0.0',
      changes: { added: 1, changed: 1, removed: 1 },
      deltasFrom: ['1.0.0'],
      bytes: 5,
    });
    expect(plan.deltas).toMatchObject([{ fromVersion: '1.0.0', files: [file('b.txt', 'B2'), file('d.txt', 'dd')], removed: ['c.txt'] }]);
  });

  it('plans no delta from a version that shares no file (it would carry the whole package)', () => {
    const other = [file('x.txt', 'x')];
    const plan = planPackage(facts(v1, { channelReleases: [release('1.0.0')], storedManifests: [stored('1.0.0', other)] }));
    expect(plan.deltasFrom).toEqual([]);
  });

  it("plans content equal to the current release as unchanged, with that release's rules", () => {
    const current = release('1.0.0', { rules: { rollout: 100, mandatory: true } });
    const plan = planPackage(facts(v1, { channelReleases: [current], storedManifests: [stored('1.0.0', v1)] }));
    expect(plan).toMatchObject({ status: 'unchanged', version: '1.0.0', changes: { added: 0, changed: 0, removed: 0 }, deltasFrom: [], rules: current.rules });
  });

  it('finishes a version an interrupted run stored: same version, its stored manifest adopted', () => {
    const unreleased = stored('1.0.1', v2);
    const plan = planPackage(facts(v2, { channelReleases: [release('1.0.0')], storedManifests: [stored('1.0.0', v1), unreleased] }));
    expect(plan.version).toBe('1.0.1');
    expect(plan.storedManifest).toBe(unreleased);
  });
});

describe('versionForContent (publish and pack choose alike)', () => {
  const content = contentSha256(v2);
  it('is the stored version of the same content, then a claimed one, else the next above all', () => {
    expect(versionForContent({ id: 'maps', contentSha256: content, storedManifests: [stored('1.0.0', v1), stored('1.0.1', v2)], unfinished: [], request: {} })).toBe('1.0.1');
    expect(versionForContent({ id: 'maps', contentSha256: content, storedManifests: [stored('1.0.0', v1)], unfinished: [{ version: '1.0.4', contentSha256: content }], request: {} })).toBe('1.0.4');
    expect(versionForContent({ id: 'maps', contentSha256: content, storedManifests: [stored('1.0.0', v1)], unfinished: [{ version: '1.0.4', contentSha256: 'other' }], request: {} })).toBe('1.0.5');
    expect(versionForContent({ id: 'maps', contentSha256: content, storedManifests: [stored('1.0.0', v1)], unfinished: [], request: { bump: 'minor' } })).toBe('1.1.0');
  });
});
