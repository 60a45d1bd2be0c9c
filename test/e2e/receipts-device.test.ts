/**
 * The device side of receipts end to end through `serve --receipts-log`:
 * fetch reports check and applied, --confirm-launch reports the launch, an
 * unconfirmed install rolls back after two starts (rolled_back sent, never
 * installed again), and receipts to a dead endpoint wait in the queue and go
 * out later with the same eid. Nothing of this happens without `receipts`.
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, snapshotTree, succeeded } from '../helpers/cli.js';
import { freePort } from '../helpers/moto.js';
import { startServe } from '../helpers/serve.js';
import { decodeReceiptQuery } from '../../src/protocol/receipts.js';

afterAll(removeProjects);

const STATE = '.update-publish.json';

describe('receipts from the Node client through serve', () => {
  it('fetch, confirm, and a crash loop that rolls back', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'one' } }, config: { receipts: { url: 'r/v1' } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const index = await project.readStoreJson('channels/production/index.json');
    expect(index.receipts).toEqual({ url: 'r/v1' });
    const server = await startServe(project.dir, ['--receipts-log', 'receipts.ndjson']);
    const device = join(project.dir, 'device', 'maps');
    const fetch = (...args: string[]) => project.run(['fetch', 'maps', '--from', server.url, '--into', device, '--platform', 'ios', '--app-version', '2.0.0', '--json', ...args]);
    try {
      const first = succeeded(await fetch());
      expect(first).toMatchObject({ updated: true, version: '1.0.0' });
      expect(succeeded(await fetch('--confirm-launch', 'ok'))).toEqual({ package: 'maps', launch: 'ok', version: '1.0.0' });
      await project.write('maps', { 'a.txt': 'two' });
      succeeded(await project.run(['publish', '--yes', '--json']));
      expect(succeeded(await fetch())).toMatchObject({ updated: true, version: '1.0.1', previousVersion: '1.0.0' });
      // Two starts without a confirmation: the second rolls back and 1.0.1 is not installed again.
      expect(succeeded(await fetch())).toMatchObject({ updated: false, version: '1.0.1' });
      const rolled = await fetch();
      expect(rolled.stderr).toContain('maps 1.0.1 was not confirmed after 2 starts: rolled back to 1.0.0');
      expect(succeeded(rolled)).toMatchObject({ updated: false, version: '1.0.0', reason: 'failed-on-device' });
      expect(await readFile(join(device, 'a.txt'), 'utf8')).toBe('one');
    } finally {
      await server.stop();
    }
    const lines = (await readFile(join(project.dir, 'receipts.ndjson'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    const receipts = lines.map((line) => decodeReceiptQuery(line.query)).map((decoded) => (decoded.ok ? decoded.receipt : undefined));
    expect(receipts.map((receipt) => [receipt?.e, receipt?.rel, receipt?.from])).toEqual([
      ['check', '1.0.0', 'none'],
      ['applied', '1.0.0', 'none'],
      ['launch_ok', '1.0.0', 'none'],
      ['check', '1.0.1', '1.0.0'],
      ['applied', '1.0.1', '1.0.0'],
      ['rolled_back', '1.0.1', '1.0.0'],
    ]);
    // One random install id for the folder, none of the device's identifiers.
    expect(new Set(receipts.map((receipt) => receipt!.iid)).size).toBe(1);
    expect(receipts[0]).toMatchObject({ ch: 'production', pkg: 'maps', pf: 'ios', av: '2.0.0' });
    expect(receipts[1]).toMatchObject({ k: 'full', iv: 1 });
    expect(receipts[1]!.sz).toBeGreaterThan(0);
    const health = succeeded(await project.run(['health', '--receipts', 'receipts.ndjson', '--json']));
    expect(health.releases.map((release: any) => [release.version, release.applied, release.launchOk, release.rolledBack, release.failureRate])).toEqual([
      ['1.0.1', 1, 0, 1, 1],
      ['1.0.0', 1, 1, 0, 0],
    ]);
  });

  it('a guarded delta install copies the files it keeps: the tree kept to go back to shares none with the new one', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'one', 'b.txt': 'b'.repeat(5000) } }, config: { receipts: { url: 'r/v1' } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const server = await startServe(project.dir, ['--receipts-log', 'receipts.ndjson']);
    const device = join(project.dir, 'device', 'maps');
    const fetch = (...args: string[]) => project.run(['fetch', 'maps', '--from', server.url, '--into', device, '--json', ...args]);
    try {
      succeeded(await fetch());
      succeeded(await fetch('--confirm-launch', 'ok'));
      await project.write('maps', { 'a.txt': 'two' });
      succeeded(await project.run(['publish', '--yes', '--json']));
      expect(succeeded(await fetch())).toMatchObject({ updated: true, version: '1.0.1', kind: 'delta' });
      const kept = `${device}.update-publish-previous`;
      expect(await readFile(join(kept, 'b.txt'), 'utf8')).toBe(await readFile(join(device, 'b.txt'), 'utf8'));
      // A link would let a change to the new tree reach the copy a rollback restores.
      expect((await stat(join(device, 'b.txt'))).ino).not.toBe((await stat(join(kept, 'b.txt'))).ino);
    } finally {
      await server.stop();
    }
  });

  it('receipts to a dead endpoint wait in the queue and go out later with the same eid; the update is not held up', async () => {
    const port = await freePort();
    const project = await makeProject({ packages: { maps: { 'a.txt': 'one' } }, config: { receipts: { url: `http://127.0.0.1:${port}/r/v1` } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const server = await startServe(project.dir);
    const device = join(project.dir, 'device', 'maps');
    try {
      expect(succeeded(await project.run(['fetch', 'maps', '--from', server.url, '--into', device, '--json']))).toMatchObject({ updated: true });
    } finally {
      await server.stop();
    }
    const state = JSON.parse(await readFile(`${device}.update-publish-device.json`, 'utf8'));
    expect(state.queue.map((entry: any) => decodeReceiptQuery(new URL(entry.url).search).ok && new URL(entry.url).searchParams.get('e'))).toEqual(['check', 'applied']);
    const queued = state.queue.map((entry: any) => entry.eid);
    const heard: string[] = [];
    const endpoint = createServer((request, response) => {
      heard.push(new URL(request.url!, 'http://x').searchParams.get('eid')!);
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => endpoint.listen(port, '127.0.0.1', resolve));
    try {
      succeeded(await project.run(['fetch', 'maps', '--into', device, '--confirm-launch', 'ok', '--json']));
    } finally {
      await new Promise((resolve) => endpoint.close(resolve));
    }
    expect(heard.slice(0, 2)).toEqual(queued);
    expect(heard).toHaveLength(3);
    expect(JSON.parse(await readFile(`${device}.update-publish-device.json`, 'utf8')).queue).toEqual([]);
  });

  it('the index carries the config receipts (url, sampleRate; never the source) from the next write, and drops them when the config does', async () => {
    const project = await makeProject({ config: { receipts: { url: 'https://cdn.example.com/r/v1', sampleRate: 0.25, source: 's3://logs/cf' } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    expect((await project.readStoreJson('channels/production/index.json')).receipts).toEqual({ url: 'https://cdn.example.com/r/v1', sampleRate: 0.25 });
    const { writeFile } = await import('node:fs/promises');
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    delete config.receipts;
    await writeFile(project.configPath, JSON.stringify(config));
    succeeded(await project.run(['refresh', '--json']));
    expect(await project.readStoreJson('channels/production/index.json')).not.toHaveProperty('receipts');
  });

  it('without receipts in the index: no state beside the folder, no guard', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'one' } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const device = join(project.dir, 'device', 'maps');
    for (let i = 0; i < 3; i++) succeeded(await project.run(['fetch', 'maps', '--into', device, '--json']));
    expect(Object.keys(await snapshotTree(join(project.dir, 'device')))).toEqual([`maps/${STATE}`, 'maps/a.txt']);
  });
});
