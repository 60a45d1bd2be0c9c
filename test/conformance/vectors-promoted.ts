import { contentSha256 } from '../../src/protocol/manifest.js';
import type { DraftCase, DraftFile } from './vectors-rules.js';

const hex = (char: string) => char.repeat(64);

/**
 * A release's manifest against its channel index entry (issue 28 item 7): a
 * delta built when the release was promoted to this channel is listed by the
 * index alone, with its own `removed` (PROTOCOL.md §3.1, §3.2).
 */
export function promotedVectors(): DraftFile {
  const files = [{ path: 'a.txt', size: 6, sha256: hex('1') }];
  const full = { key: 'packages/maps/1.0.2/full.zip', size: 100, sha256: hex('2') };
  const fromManifest = { from: '1.0.1', key: 'packages/maps/1.0.2/delta-from-1.0.1.zip', size: 50, sha256: hex('3'), removed: [] };
  const manifest = { schemaVersion: 1, id: 'maps', version: '1.0.2', createdAt: '2026-03-01T00:00:00.000Z', contentSha256: contentSha256(files), files, full, deltas: [fromManifest] };
  const promoted = { from: '1.0.0', key: 'packages/maps/1.0.2/delta-from-1.0.0.zip', size: 70, sha256: hex('4') };
  const release = (deltas: object[]) => ({ version: '1.0.2', releasedAt: '2026-03-01T00:00:00.000Z', state: 'active', manifest: { key: 'packages/maps/1.0.2/manifest.json', sha256: hex('0') }, full, deltas, rules: { rollout: 100 } });
  const { removed: _removed, ...listedDelta } = fromManifest;
  const cases: DraftCase[] = [];
  const add = (name: string, deltas: object[], want: unknown) => cases.push({ name, check: 'release-manifest', package: 'maps', release: release(deltas), manifest, want });
  add('the index lists the manifest\'s delta: accepted', [listedDelta], { ok: true, deltaFrom: ['1.0.1'] });
  add('a promoted release: a delta listed by the index alone, with its removed list, is accepted and served', [listedDelta, { ...promoted, removed: ['old.txt'] }], { ok: true, deltaFrom: ['1.0.1', '1.0.0'] });
  add('a delta listed by the index alone without removed is refused', [listedDelta, promoted], { ok: false });
  add('a delta listed by the index alone with a patched object is refused', [{ ...promoted, removed: [], patched: { key: 'packages/maps/1.0.2/delta-from-1.0.0.patched.zip', size: 10, sha256: hex('5') } }], { ok: false });
  add('the index lists the manifest\'s delta with another SHA-256: refused', [{ ...listedDelta, sha256: hex('6') }], { ok: false });
  return {
    name: 'promoted.json',
    description:
      'A release\'s manifest checked against its channel index entry (the manifest\'s SHA-256 already matched). Every delta the index lists must be the manifest\'s delta from the same version, or, for a release promoted from another channel, carry its own `removed` and no `patched` (PROTOCOL.md §3.1). `release` is the index entry, `manifest` the manifest; `{ ok: true, deltaFrom }` lists the `from` of every delta the release serves (the manifest\'s first), `{ ok: false }` means the manifest must be refused.',
    cases,
  };
}
