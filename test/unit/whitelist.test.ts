import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardHas, whitelistMetaKey, whitelistShard, whitelistShardKey } from '../../src/protocol/whitelist.js';
import { DOCUMENT_LIMITS } from '../../src/protocol/limits.js';
import { readWhitelistMeta as deviceReadsMeta } from '../../src/client/read-documents.js';
import { storeSource } from '../../src/client/fetch/source.js';
import { UserError } from '../../src/errors.js';
import { readIds, readIdSet } from '../../src/channel/id-file.js';
import { createWhitelistCache } from '../../src/channel/whitelist-lookup.js';
import {
  assertWhitelistsExist,
  IDS_PER_SHARD,
  listWhitelists,
  readWhitelistMeta,
  readWhitelistShard,
  removeWhitelist,
  uploadWhitelist,
} from '../../src/channel/whitelists.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import type { Store } from '../../src/store/store.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let dir: string;
let file = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whitelist-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function idFile(content: string): Promise<string> {
  const path = join(dir, `ids-${file++}.txt`);
  await writeFile(path, content);
  return path;
}

async function ids(content: string): Promise<string[]> {
  const found: string[] = [];
  for await (const { id } of readIds(await idFile(content))) found.push(id);
  return found;
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

/** A folder store that counts the documents read. */
function countingStore(store: Store) {
  const reads: string[] = [];
  return { reads, store: { ...store, readDocument: (key: string) => (reads.push(key), store.readDocument(key)) } };
}

describe('id files', () => {
  it('reads ids from a pipe, as `whitelist upload qa <(sort ids.txt)` gives one; refuses a folder', async () => {
    const fifo = join(dir, 'ids.fifo');
    execFileSync('mkfifo', [fifo]);
    const writing = writeFile(fifo, 'p1\np2\n');
    const found: string[] = [];
    for await (const { id } of readIds(fifo)) found.push(id);
    await writing;
    expect(found).toEqual(['p1', 'p2']);
    expect((await rejection(readIdSet(dir, 10))).message).toMatch(/it is not a file; give a file of ids/);
  });

  it('reads one id a line: trimmed, blank lines and CRLF and a BOM ignored', async () => {
    expect(await ids('\uFEFFa1\r\n  b2  \r\n\r\n\nc3')).toEqual(['a1', 'b2', 'c3']);
  });

  it('reads the first CSV column, skipping a header named like an id column, unquoting', async () => {
    expect(await ids('device_id,name\nd1,Anna\n"d,2",Bo\n"d""3"\n')).toEqual(['d1', 'd,2', 'd"3']);
    expect(await ids('userId\nu1\n')).toEqual(['u1']);
    expect(await ids('ID\nu1\n')).toEqual(['u1']);
    // Only the first line can be a header.
    expect(await ids('u1\nid\n')).toEqual(['u1', 'id']);
  });

  it('refuses malformed lines with their line number, an empty file and a missing one', async () => {
    expect((await rejection(readIdSet(await idFile('a\nb c\n'), 10))).message).toMatch(/line 2: "b c" is not an id/);
    expect((await rejection(readIdSet(await idFile('a\tb\n'), 10))).message).toMatch(/line 1: .* is not an id/);
    expect((await rejection(readIdSet(await idFile('ok\n"open,1\n'), 10))).message).toMatch(/line 2: unclosed quote/);
    expect((await rejection(readIdSet(await idFile(`${'x'.repeat(300)}\n`), 10))).message).toMatch(/over 256 characters/);
    expect((await rejection(readIdSet(await idFile(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]).toString('latin1')), 10))).message).toMatch(/not an id/);
    expect((await rejection(readIdSet(await idFile('\n \ndevice_id\n'), 10))).message).toMatch(/holds no ids/);
    expect((await rejection(readIdSet(join(dir, 'nope.txt'), 10))).message).toMatch(/cannot read .*nope\.txt: no such file/);
  });

  it('refuses ids that are not valid UTF-8 with their line number (they were stored as U+FFFD)', async () => {
    const latin1 = join(dir, 'latin1.txt');
    await writeFile(latin1, Buffer.concat([Buffer.from('ok-1\r\n'), Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), Buffer.from('\nok-2\n')]));
    expect((await rejection(readIdSet(latin1, 10))).message).toMatch(/latin1\.txt line 2: not valid UTF-8 \(saved in another encoding\?\); save the file as UTF-8/);
    // Valid UTF-8 outside ASCII is an id like any other.
    expect(await ids('Müller\nZoë\n')).toEqual(['Müller', 'Zoë']);
  });

  it('dedupes, and refuses more ids than the limit', async () => {
    expect([...(await readIdSet(await idFile('a\nb\na\n'), 10))]).toEqual(['a', 'b']);
    expect((await rejection(readIdSet(await idFile('a\nb\nc\n'), 2))).message).toMatch(/more than 2 ids/);
  });
});

describe('whitelist store', () => {
  it('partitions by whitelistShard into sorted shards of at most ~2,000 ids; a device reads one shard', async () => {
    const store = createFolderStore(join(dir, 'store-shards'));
    const members = new Set(Array.from({ length: 10_001 }, (_, i) => `member-${i}`));
    const meta = await uploadWhitelist(store, 'beta', members);
    expect(meta).toMatchObject({ name: 'beta', count: 10_001, shards: 6 });
    let total = 0;
    for (let shard = 0; shard < meta.shards; shard++) {
      const stored = await readWhitelistShard(store, meta, shard);
      expect(stored.length).toBeLessThanOrEqual(IDS_PER_SHARD * 1.2);
      expect(stored).toEqual([...stored].sort());
      for (const id of stored) expect(whitelistShard(id, meta.shards)).toBe(shard);
      total += stored.length;
    }
    expect(total).toBe(10_001);

    const { reads, store: counted } = countingStore(store);
    const cache = createWhitelistCache(counted);
    await cache.load(['beta'], ['member-42', 'stranger']);
    expect(cache.lookup('beta', 'member-42')).toBe(true);
    expect(cache.lookup('beta', 'stranger')).toBe(false);
    // The meta and at most the two shards those ids fall in.
    expect(reads.length).toBeLessThanOrEqual(3);
    expect(reads.filter((key) => key.includes('/shard-')).length).toBe(cache.shardsRead());
  });

  it('replacing a list removes the shards of uploads before the previous one (readers of the previous meta still find theirs)', async () => {
    const store = createFolderStore(join(dir, 'store-replace'));
    await uploadWhitelist(store, 'qa', new Set(Array.from({ length: 5_000 }, (_, i) => `d${i}`)));
    await uploadWhitelist(store, 'qa', new Set(['first']));
    const meta = await uploadWhitelist(store, 'qa', new Set(['only']));
    expect((await store.list('whitelists/qa/')).map((object) => object.key).sort()).toEqual([
      'whitelists/qa/meta.json',
      'whitelists/qa/v2/shard-000.json',
      'whitelists/qa/v3/shard-000.json',
    ]);
    expect(meta.version).toBe(3);
    expect(shardHas(await readWhitelistShard(store, meta, 0), 'only')).toBe(true);
    expect(whitelistShardKey('qa', 0, meta.version)).toBe('whitelists/qa/v3/shard-000.json');
  });

  it('lists, checks and removes lists; a missing list has no members', async () => {
    const store = createFolderStore(join(dir, 'store-ls'));
    await uploadWhitelist(store, 'qa', new Set(['a']), new Date('2026-01-01T00:00:00Z'));
    await uploadWhitelist(store, 'beta', new Set(['b', 'c']), new Date('2026-01-02T00:00:00Z'));
    expect(await listWhitelists(store)).toEqual([
      { name: 'beta', count: 2, shards: 1, uploadedAt: '2026-01-02T00:00:00.000Z', version: 1 },
      { name: 'qa', count: 1, shards: 1, uploadedAt: '2026-01-01T00:00:00.000Z', version: 1 },
    ]);
    await assertWhitelistsExist(store, ['qa', 'beta']);
    expect((await rejection(assertWhitelistsExist(store, ['qa', 'nope']))).message).toMatch(/unknown whitelist 'nope'; stored: beta, qa/);

    await removeWhitelist(store, 'qa');
    expect(await store.list('whitelists/qa/')).toEqual([]);
    expect((await rejection(removeWhitelist(store, 'qa'))).message).toMatch(/unknown whitelist 'qa'; stored: beta/);
    const cache = createWhitelistCache(store);
    await cache.load(['qa'], ['a']);
    expect(cache.lookup('qa', 'a')).toBe(false);
    expect(cache.absent()).toEqual(['qa']);
  });

  it('refuses names that are not store-safe', async () => {
    const store = createFolderStore(join(dir, 'store-names'));
    expect((await rejection(uploadWhitelist(store, '../x', new Set(['a'])))).message).toMatch(/whitelist name '..\/x' is not valid/);
  });
});

describe('a whitelist meta', () => {
  it('is read by the publisher with the device\'s reader: the same refusal for each damage (the publisher adds the fix)', async () => {
    const store = createFolderStore(join(dir, 'one-reader'));
    const key = whitelistMetaKey('qa');
    const damaged: Record<string, string> = {
      'not JSON': '{"name": "qa",',
      'a name twice': '{"name": "qa", "name": "qa", "count": 1, "shards": 1}',
      'copied from another list': '{"name": "beta", "count": 1, "shards": 1, "version": 1}',
      'no shard count': '{"name": "qa", "count": 1, "shards": 0, "version": 1}',
      // Past the cap a device reads for a meta: an endless or swapped document.
      'too large': JSON.stringify({ name: 'qa', count: 1, shards: 1, version: 1, padding: 'x'.repeat(DOCUMENT_LIMITS.whitelistMeta) }),
    };
    for (const [damage, text] of Object.entries(damaged)) {
      await store.writeDocument(key, Buffer.from(text), { contentType: 'application/json', cacheControl: 'no-cache', sha256: sha256(text) });
      const device = await deviceReadsMeta(storeSource(store), 'qa', []).then(() => 'accepted', (error: Error) => error.message);
      const publisher = await readWhitelistMeta(store, 'qa').then(() => 'accepted', (error: Error) => error.message);
      expect(device, damage).not.toBe('accepted');
      expect(publisher.startsWith(device), `${damage}: ${publisher} / ${device}`).toBe(true);
    }
  });
});
