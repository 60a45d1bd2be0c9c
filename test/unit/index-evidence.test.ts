/**
 * What a publisher knows of a channel's newest index independently of the
 * index itself (issue 25: a replayed index is never built on, a damaged
 * record is never taken for "no record").
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX } from '../../src/channel/index-store.js';
import { indexReplayRefusal, readIndexEvidence, versionFloor } from '../../src/channel/index-evidence.js';
import { writePending, type PendingWork } from '../../src/channel/pending.js';
import { writeChannelDocument } from '../../src/channel/versioned-document.js';
import { channelIndexKey, indexHighWaterKey } from '../../src/protocol/layout.js';
import { createFolderStore } from '../../src/store/folder-store.js';

let dir: string;
let stores = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'index-evidence-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function storeAtVersion(versions: number) {
  const root = join(dir, `store-${stores++}`);
  const store = createFolderStore(root);
  for (let i = 0; i < versions; i++) await writeChannelDocument(store, INDEX, 'production', (index) => index, { lifetimeMs: 86_400_000 });
  return { store, root };
}

const pendingIndexWrite = (documentVersion: number): PendingWork => ({
  id: `p${documentVersion}`,
  channel: 'production',
  summary: 'publish of maps@1.0.0',
  documentKey: channelIndexKey('production'),
  documentVersion,
  documentDigest: 'x',
  history: [],
  events: [],
});

describe('the evidence of the newest index written', () => {
  it('every index write raises the high-water mark beside the index', async () => {
    const { store } = await storeAtVersion(3);
    const evidence = await readIndexEvidence(store, 'production');
    expect(evidence).toMatchObject({ marked: true, damaged: [], highest: { version: 3, source: expect.stringContaining(indexHighWaterKey('production')) } });
    expect(indexReplayRefusal('production', 3, evidence)).toBeUndefined();
    expect(indexReplayRefusal('production', 2, evidence)).toMatch(/is version 2, but the channel's high-water mark .* records that version 3 was written: an older index was put back/);
  });

  it('a pending index write names the version it was built on, even with the mark gone', async () => {
    const { store } = await storeAtVersion(2);
    await store.delete([indexHighWaterKey('production')]);
    await writePending(store, pendingIndexWrite(6));
    const evidence = await readIndexEvidence(store, 'production');
    expect(indexReplayRefusal('production', 2, evidence)).toMatch(/is version 2, but a pending index write \(channels\/production\/pending\/p6\.json\) records that version 5 was written/);
  });

  it('a run killed between its index write and raising the mark is not a missing mark', async () => {
    const { store } = await storeAtVersion(1);
    await store.delete([indexHighWaterKey('production')]);
    expect(indexReplayRefusal('production', 1, await readIndexEvidence(store, 'production'))).toMatch(/high-water\.json, the record of the versions written, is missing/);
    await writePending(store, pendingIndexWrite(1));
    expect(indexReplayRefusal('production', 1, await readIndexEvidence(store, 'production'))).toBeUndefined();
  });

  it('the first write of a channel needs no mark', async () => {
    const { store } = await storeAtVersion(0);
    expect(indexReplayRefusal('production', 0, await readIndexEvidence(store, 'production'))).toBeUndefined();
  });

  it('a damaged mark or log is refused by name; its text still raises the floor the next index is numbered above', async () => {
    const { store, root } = await storeAtVersion(4);
    await writeFile(join(root, indexHighWaterKey('production')), '{"channel":"production","indexVersion":9');
    await mkdir(join(root, 'channels/production/history'), { recursive: true });
    await writeFile(join(root, 'channels/production/history/maps.json'), '{"entries":[{"indexVersion":7},');
    const evidence = await readIndexEvidence(store, 'production');
    expect(evidence.damaged.map((record) => record.key)).toEqual(['channels/production/history/maps.json', indexHighWaterKey('production')]);
    expect(indexReplayRefusal('production', 4, evidence)).toMatch(
      /^channels\/production\/history\/maps\.json is not valid JSON .*: it records which versions of channels\/production\/index\.json were written, .*'update-publish refresh --channel production --accept-index 4 --yes'/,
    );
    expect(versionFloor(evidence)).toBe(9);
  });
});
