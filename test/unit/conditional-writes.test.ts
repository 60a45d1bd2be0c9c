import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertRelease } from '../../src/protocol/channel-index.js';
import { appendToLog, packageHistory, readHistory, type HistoryRecord } from '../../src/channel/history.js';
import { historyKey } from '../../src/protocol/layout.js';
import { halt, setRollout } from '../../src/release/operations.js';
import { INDEX, readIndex } from '../../src/channel/index-store.js';
import { writeChannelDocument } from '../../src/channel/versioned-document.js';
import type { ChannelIndex } from '../../src/protocol/types.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { removePending, writePending, type PendingWork } from '../../src/channel/pending.js';
import type { Store } from '../../src/store/store.js';
import { release } from '../helpers/releases.js';

let dir: string;
let stores = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'conditional-writes-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const newStore = () => createFolderStore(join(dir, `store-${stores++}`));
/** The one writer of channel documents, as the change pipeline calls it. */
const updateIndex = (store: Store, channel: string, apply: (index: ChannelIndex) => ChannelIndex) => writeChannelDocument(store, INDEX, channel, apply, { lifetimeMs: 86_400_000 });
const appendHistory = (store: Store, channel: string, id: string, records: HistoryRecord[]) => appendToLog(store, historyKey(channel, id), packageHistory(channel, id, records, 'tester').entries);

/**
 * A store where someone else writes `key` between our read and our first
 * write: the race every operation must survive without losing either change.
 */
function racedStore(store: Store, key: string, competitor: () => Promise<unknown>): Store & { writes: number } {
  let raced = false;
  const racing = {
    ...store,
    writes: 0,
    async writeDocument(target: string, body: Buffer, options: Parameters<Store['writeDocument']>[2]) {
      if (target === key && !raced) {
        raced = true;
        await competitor();
      }
      racing.writes++;
      return store.writeDocument(target, body, options);
    },
  };
  return racing;
}

describe('index and history writes under a race', () => {
  it('an operation re-applied on the fresh index keeps a concurrent change', async () => {
    const store = newStore();
    await updateIndex(store, 'production', (index) => upsertRelease(upsertRelease(index, 'maps', release('1.0.0')), 'levels', release('2.0.0')));
    const raced = racedStore(store, 'channels/production/index.json', () =>
      updateIndex(store, 'production', (index) => halt(index, 'levels').index),
    );
    await updateIndex(raced, 'production', (index) => setRollout(index, 'maps', 25).index);
    const { index } = await readIndex(store, 'production');
    expect(index.packages.maps.releases[0].rules.rollout).toBe(25);
    expect(index.packages.levels.releases[0].state).toBe('halted');
    // The first conditional write lost and was retried.
    expect(raced.writes).toBe(2);
  });

  it('a refused operation writes nothing', async () => {
    const store = newStore();
    await updateIndex(store, 'production', (index) => upsertRelease(index, 'maps', release('1.0.0')));
    const before = await store.readDocument('channels/production/index.json');
    await expect(updateIndex(store, 'production', (index) => setRollout(index, 'maps', 200).index)).rejects.toThrow(/outside 0–100/);
    expect((await store.readDocument('channels/production/index.json'))?.etag).toBe(before?.etag);
  });

  it('history appends from two writers are both kept, in write order', async () => {
    const store = newStore();
    const raced = racedStore(store, historyKey('production', 'maps'), () =>
      appendHistory(store, 'production', 'maps', [{ action: 'halt', version: '1.0.0', details: {} }]),
    );
    await appendHistory(raced, 'production', 'maps', [{ action: 'rollout', version: '1.0.0', from: 10, to: 50, details: {} }]);
    const log = (await store.readDocument(historyKey('production', 'maps')))!;
    expect(JSON.parse(log.body.toString()).entries.map((entry: { action: string }) => entry.action)).toEqual(['halt', 'rollout']);
  });
});

describe('readHistory', () => {
  it('lists newest first and adds releases the log does not mention', async () => {
    const store = newStore();
    await appendHistory(store, 'production', 'maps', [{ action: 'publish', version: '1.1.0', details: {} }]);
    await appendHistory(store, 'production', 'maps', [{ action: 'rollout', version: '1.1.0', from: 10, to: 50, details: {} }]);
    const entries = await readHistory(store, 'production', 'maps', [release('1.1.0'), release('1.0.0', { releasedAt: '2020-01-01T00:00:00.000Z' })]);
    expect(entries.map((entry) => `${entry.action} ${entry.version}`)).toEqual(['rollout 1.1.0', 'publish 1.1.0', 'publish 1.0.0']);
    expect(entries[2]).toMatchObject({ at: '2020-01-01T00:00:00.000Z', actor: 'unknown', details: { logged: false } });
    expect(entries[0].actor).toEqual(expect.any(String));
  });
});

describe('pending records on the folder store', () => {
  it('two writers never remove each other\'s pending/ folder (the last delete removes the emptied folder)', async () => {
    const store = newStore();
    const record = (id: string): PendingWork => ({
      id,
      channel: 'production',
      summary: 'test',
      documentKey: 'channels/production/index.json',
      documentVersion: 1,
      documentDigest: 'x',
      history: [],
      events: [],
    });
    const writer = async (name: string) => {
      for (let round = 0; round < 300; round++) {
        const work = record(`${name}-${round}`);
        await writePending(store, work);
        await removePending(store, work);
      }
    };
    await expect(Promise.all([writer('a'), writer('b'), writer('c')])).resolves.toBeDefined();
  });
});
