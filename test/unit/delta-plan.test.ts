import { describe, expect, it } from 'vitest';
import type { ManifestFile } from '../../src/protocol/types.js';
import { planDeltas } from '../../src/release/delta-plan.js';
import { storedManifest as manifest } from '../helpers/releases.js';

const file = (path: string, sha256: string): ManifestFile => ({ path, size: sha256.length, sha256 });

describe('planDeltas', () => {
  const current = [file('a', '1'), file('b', '22'), file('c', '3'), file('e', '5')];

  it('plans one delta per base holding the added and changed files, sorted, and listing removals', () => {
    const v1 = manifest('1.0.0', [file('a', '1'), file('b', '2'), file('c', '3'), file('d', '4')]);
    const v2 = manifest('1.0.1', [file('a', '1'), file('b', '22'), file('c', '3')]);
    const plans = planDeltas(current, [v2, v1]);
    expect(plans).toEqual([
      { fromVersion: '1.0.1', base: v2, files: [file('e', '5')], removed: [] },
      { fromVersion: '1.0.0', base: v1, files: [file('b', '22'), file('e', '5')], removed: ['d'] },
    ]);
  });

  it('rebuilds the current list from each base: base − removed − changed + delta files', () => {
    const v1 = manifest('1.0.0', [file('z', '9'), file('b', '2'), file('a', '1')]);
    const [plan] = planDeltas(current, [v1]);
    const rebuilt = new Map(v1.files.filter((f) => !plan.removed.includes(f.path)).map((f) => [f.path, f]));
    for (const f of plan.files) rebuilt.set(f.path, f);
    expect([...rebuilt.values()].sort((x, y) => (x.path < y.path ? -1 : 1))).toEqual(current);
  });

  it('skips a base that shares no file with the current version (the delta would be the full package)', () => {
    const unrelated = manifest('1.0.0', [file('x', '7')]);
    expect(planDeltas(current, [unrelated])).toEqual([]);
  });

  it('plans nothing without bases', () => {
    expect(planDeltas(current, [])).toEqual([]);
  });
});
