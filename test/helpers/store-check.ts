/**
 * The store invariant every crash and fault test asserts: every object any
 * channel index references — or its archive of releases devices no longer get,
 * which `rollback --to` can still reach — exists and matches the SHA-256 (and
 * size) given there. Works on any Store, so folder and S3 runs share it.
 */
import { createHash } from 'node:crypto';
import semver from 'semver';
import type { ChannelIndex, Manifest, Release } from '../../src/protocol/types.js';
import { readArchivedReleases } from '../../src/channel/archive.js';
import { listChannels } from '../../src/channel/index-store.js';
import { channelIndexKey } from '../../src/protocol/layout.js';
import type { Store } from '../../src/store/store.js';

export interface StoreCheck {
  indexes: Record<string, ChannelIndex>;
  /** Every version each channel has released, index and archive, newest first: channel → package → versions. */
  released: Record<string, Record<string, string[]>>;
  /** One line per broken reference; empty when the store is consistent. */
  problems: string[];
  objectsChecked: number;
}

async function sha256Of(store: Store, key: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await store.openRead(key)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * `verified` (optional, kept by the caller across checks) remembers objects
 * already read in full, by key → size and modification time: package keys are
 * written once, so an unchanged one is not downloaded again.
 */
export async function checkStore(store: Store, verified?: Map<string, string>): Promise<StoreCheck> {
  const indexes: Record<string, ChannelIndex> = {};
  const released: StoreCheck['released'] = {};
  const problems: string[] = [];
  let objectsChecked = 0;

  const checkObject = async (key: string, expected: { sha256: string; size?: number }) => {
    objectsChecked++;
    const head = await store.head(key);
    if (!head) return void problems.push(`${key}: missing`);
    const stamp = `${head.size} ${head.lastModified?.toISOString()} ${expected.sha256}`;
    if (verified?.get(key) === stamp) return;
    const actual = await sha256Of(store, key);
    if (actual.sha256 !== expected.sha256) problems.push(`${key}: sha256 ${actual.sha256} != ${expected.sha256}`);
    else if (expected.size !== undefined && actual.size !== expected.size) problems.push(`${key}: size ${actual.size} != ${expected.size}`);
    else verified?.set(key, stamp);
  };

  for (const channel of await listChannels(store)) {
    const document = await store.readDocument(channelIndexKey(channel));
    let index: ChannelIndex;
    try {
      index = JSON.parse(document!.body.toString('utf8'));
    } catch {
      problems.push(`${channelIndexKey(channel)}: not valid JSON`);
      continue;
    }
    indexes[channel] = index;
    released[channel] = {};
    for (const [id, { releases: current }] of Object.entries(index.packages)) {
      const archived = await readArchivedReleases(store, channel, id);
      const byVersion = new Map<string, Release>([...archived, ...current].map((release) => [release.version, release]));
      const releases = [...byVersion.values()].sort((a, b) => semver.rcompare(a.version, b.version));
      released[channel][id] = releases.map((release) => release.version);
      for (const release of releases) {
        await checkObject(release.manifest.key, release.manifest);
        await checkObject(release.full.key, release.full);
        for (const delta of release.deltas) await checkObject(delta.key, delta);
        const manifestDocument = await store.readDocument(release.manifest.key);
        if (!manifestDocument) continue;
        const manifest = JSON.parse(manifestDocument.body.toString('utf8')) as Manifest;
        if (manifest.id !== id || manifest.version !== release.version || manifest.full.sha256 !== release.full.sha256) {
          problems.push(`${release.manifest.key}: does not describe ${id} ${release.version} as the index does`);
        }
      }
    }
  }
  return { indexes, released, problems, objectsChecked };
}
