import { emptyIndex, upsertRelease } from '../../src/protocol/channel-index.js';
import { buildManifest } from '../../src/protocol/manifest.js';
import type { ChannelIndex, Manifest, ManifestFile, Release } from '../../src/protocol/types.js';

/** An active 100% release of maps@version with no rules; override what a test is about. */
export const release = (version: string, overrides: Partial<Release> = {}): Release => ({
  version,
  releasedAt: '2025-01-01T00:00:00.000Z',
  manifest: { key: `packages/maps/${version}/manifest.json`, sha256: `manifest-${version}` },
  full: { key: `packages/maps/${version}/full.zip`, size: 1000, sha256: `full-${version}` },
  deltas: [],
  rules: { rollout: 100, mandatory: false },
  state: 'active',
  ...overrides,
});

/** A delta entry of a release of maps@version from an older version. */
export const delta = (version: string, from: string) => ({
  from,
  key: `packages/maps/${version}/delta-from-${from}.zip`,
  size: 10,
  sha256: `delta-${from}-${version}`,
});

/** A production index holding these releases of one package (default maps). */
export const indexWith = (releases: Release[], packageId = 'maps'): ChannelIndex =>
  releases.reduce((index, item) => upsertRelease(index, packageId, item), emptyIndex('production'));

/** A stored manifest of maps@version holding these files (objects are placeholders), with deltas from the given versions. */
export const storedManifest = (version: string, files: ManifestFile[], deltasFrom: string[] = []): Manifest =>
  buildManifest({
    id: 'maps',
    version,
    createdAt: '2025-01-01T00:00:00.000Z',
    files,
    full: { key: `packages/maps/${version}/full.zip`, size: 1, sha256: 'f' },
    deltas: deltasFrom.map((from) => ({ from, key: `packages/maps/${version}/delta-from-${from}.zip`, size: 1, sha256: 'd', removed: [] })),
  });
