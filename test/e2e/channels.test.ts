/**
 * Channels that cannot be mistyped: a channel exists once created, released
 * to, or named by the config; any other name is refused with "did you mean".
 * Also: reading commands without a config, and settings from the environment.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';

afterAll(removeProjects);

/** Refused as a typo: exit 2, one line with "did you mean", nothing written. */
async function mistyped(project: Project, args: string[], typo: string, meant: string, env?: Record<string, string>): Promise<void> {
  const before = await snapshotTree(project.store);
  const result = await project.run(args, { env });
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).toContain(`unknown channel '${typo}'`);
  expect(result.stderr).toContain(`did you mean '${meant}'?`);
  expect(await snapshotTree(project.store)).toEqual(before);
}

describe('a mistyped channel', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    // The config's channel exists before anything is released to it.
    succeeded(await project.run(['publish', '--yes', '--json']));
    await project.write('maps', { 'a.txt': 'alpha, changed' });
  });

  it('publish to it is refused and creates nothing; the right publish then goes through', async () => {
    await mistyped(project, ['publish', '--channel', 'prodution', '--yes'], 'prodution', 'production');
    expect(existsSync(project.storePath('channels/prodution'))).toBe(false);
    expect(succeeded(await project.run(['publish', '--channel', 'production', '--yes', '--json'])).packages[0]).toMatchObject({ status: 'published', version: '1.0.1' });
  });

  it.each([
    ['diff', ['diff', '--channel', 'prodution']],
    ['status', ['status', '--channel', 'prodution']],
    ['resolve', ['resolve', '--package', 'maps', '--channel', 'prodution']],
    ['rollout', ['rollout', 'maps', '50', '--channel', 'prodution', '--yes']],
    ['halt', ['halt', 'maps', '--channel', 'prodution', '--yes']],
    ['resume', ['resume', 'maps', '--channel', 'prodution', '--yes']],
    ['rollback', ['rollback', 'maps', '--channel', 'prodution', '--yes']],
    ['edit', ['edit', 'maps', '--mandatory', '--channel', 'prodution', '--yes']],
    ['history', ['history', 'maps', '--channel', 'prodution']],
    ['hooks run', ['hooks', 'run', 'maps', '--channel', 'prodution']],
    ['fetch', ['fetch', 'maps', '--into', 'device', '--channel', 'prodution']],
    ['verify', ['verify', '--channel', 'prodution']],
    ['promote --from', ['promote', 'maps', '--from', 'prodution', '--to', 'production', '--yes']],
    ['promote --to', ['promote', 'maps', '--from', 'production', '--to', 'prodution', '--yes']],
  ])('%s refuses it with "did you mean"', async (_name, args) => {
    await mistyped(project, args, 'prodution', 'production');
  });

  it('UPDATE_PUBLISH_CHANNEL is checked the same way', async () => {
    await mistyped(project, ['status', '--channel', 'prodution'], 'prodution', 'production');
    await mistyped(project, ['publish', '--yes'], 'prodution', 'production', { UPDATE_PUBLISH_CHANNEL: 'prodution' });
  });
});

describe('channel create, ls, rm', () => {
  it('a created channel can be promoted to; rm is refused while it serves releases, unless --force', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    succeeded(await project.run(['publish', '--yes']));
    const refused = await project.run(['promote', 'maps', '--from', 'production', '--to', 'staging', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/unknown channel 'staging'.*create it with 'update-publish channel create staging'/);

    expect(succeeded(await project.run(['channel', 'create', 'staging', '--json']))).toEqual({ channel: 'staging', created: true, dryRun: false });
    expect((await project.run(['channel', 'create', 'staging'])).stderr).toMatch(/channel 'staging' already exists/);
    expect(succeeded(await project.run(['channel', 'ls', '--json']))).toEqual({
      channels: [
        { name: 'production', inStore: true, configured: true, releases: 1, served: 1 },
        { name: 'staging', inStore: true, configured: false, releases: 0, served: 0 },
      ],
    });
    succeeded(await project.run(['promote', 'maps', '--from', 'production', '--to', 'staging', '--yes']));

    const before = await snapshotTree(project.store);
    const serving = await project.run(['channel', 'rm', 'staging', '--yes']);
    expect(serving.code).toBe(2);
    expect(serving.stderr).toMatch(/channel 'staging' serves 1 release \(maps@1\.0\.0\).*pass --force/);
    expect(await snapshotTree(project.store)).toEqual(before);

    const removed = succeeded(await project.run(['channel', 'rm', 'staging', '--force', '--yes', '--json']));
    expect(removed.removed).toEqual(expect.arrayContaining(['channels/staging/index.json', 'channels/staging/history/maps.json']));
    expect(existsSync(project.storePath('channels/staging'))).toBe(false);
    expect(succeeded(await project.run(['channel', 'ls', '--json'])).channels.map((channel: { name: string }) => channel.name)).toEqual(['production']);
    expect((await project.run(['channel', 'rm', 'stagin', '--yes'])).stderr).toMatch(/unknown channel 'stagin'/);
  });

  it('a channel the config lists under "channels" exists before anything is released to it', async () => {
    const project = await makeProject({ config: { channels: ['beta'] } });
    expect(succeeded(await project.run(['publish', '--channel', 'beta', '--yes', '--json']))).toMatchObject({ channel: 'beta' });
    const invalid = await makeProject({ config: { channels: ['beta', 'beta'] } });
    expect((await invalid.run(['status'])).stderr).toMatch(/channels lists a channel twice/);
  });
});

describe('reading a store without a config', () => {
  let project: Project;
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    succeeded(await project.run(['publish', '--yes']));
    server = createServer(async (request, response) => {
      const key = decodeURIComponent(new URL(request.url!, 'http://localhost').pathname.slice(1));
      const body = await readFile(join(project.store, key)).catch(() => null);
      response.writeHead(body ? 200 : 404).end(body ?? undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([
    ['status', ['status', '--json']],
    ['history', ['history', 'maps', '--json']],
    ['resolve', ['resolve', '--package', 'maps', '--json']],
    ['verify', ['verify', '--json']],
    ['fetch', ['fetch', 'maps', '--into', 'device', '--json']],
  ])('%s runs with --store alone', async (_name, args) => {
    const elsewhere = await makeProject({ configFile: false });
    succeeded(await elsewhere.run([...args, '--store', project.store]));
  });

  it('fetch runs with --from alone, and UPDATE_PUBLISH_STORE stands for --store', async () => {
    const elsewhere = await makeProject({ configFile: false });
    expect(succeeded(await elsewhere.run(['fetch', 'maps', '--into', 'device', '--from', baseUrl, '--json']))).toMatchObject({ version: '1.0.0' });
    expect(succeeded(await elsewhere.run(['status', '--json'], { env: { UPDATE_PUBLISH_STORE: project.store } })).channels[0].channel).toBe('production');
  });

  it('without either, says to pass --store', async () => {
    const elsewhere = await makeProject({ configFile: false });
    const result = await elsewhere.run(['status']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no update-publish config found .* or --store URL/);
  });
});

describe('settings from the environment: flag over environment over config', () => {
  it('UPDATE_PUBLISH_CONFIG names the config, UPDATE_PUBLISH_CHANNEL the channel', async () => {
    const project = await makeProject({ config: { channels: ['beta'] } });
    const elsewhere = await makeProject({ configFile: false });
    const env = { UPDATE_PUBLISH_CONFIG: project.configPath, UPDATE_PUBLISH_CHANNEL: 'beta' };
    expect(succeeded(await elsewhere.run(['publish', '--yes', '--json'], { env }))).toMatchObject({ channel: 'beta' });
    expect(existsSync(project.storePath('channels/beta/index.json'))).toBe(true);
    // The flag wins over the environment.
    expect(succeeded(await elsewhere.run(['status', '--channel', 'beta', '--json'], { env: { ...env, UPDATE_PUBLISH_CHANNEL: 'production' } })).channels[0].channel).toBe('beta');
    expect(succeeded(await elsewhere.run(['diff', '--channel', 'production', '--json'], { env }))).toMatchObject({ channel: 'production' });
    expect(succeeded(await elsewhere.run(['diff', '--json'], { env }))).toMatchObject({ channel: 'beta' });
  });

  it('UPDATE_PUBLISH_STORE overrides the config store, --store overrides both', async () => {
    const project = await makeProject();
    const other = join(project.dir, 'other-store');
    succeeded(await project.run(['publish', '--yes'], { env: { UPDATE_PUBLISH_STORE: other } }));
    expect(existsSync(join(other, 'channels/production/index.json'))).toBe(true);
    expect(existsSync(project.storePath('channels/production/index.json'))).toBe(false);
    const third = join(project.dir, 'third-store');
    succeeded(await project.run(['publish', '--yes', '--store', third], { env: { UPDATE_PUBLISH_STORE: other } }));
    expect(existsSync(join(third, 'channels/production/index.json'))).toBe(true);
  });
});
