/**
 * Issue 15, item 8: a connection cut mid-body under `fetch --from` resumes with
 * Range and If-Range, and otherwise ends in one line (exit 1), never "a bug".
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';

afterAll(removeProjects);

/** A large, incompressible-enough file, so the package is worth cutting. */
const bigFile = () => Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));

/** Serves the store; full packages are cut after half their bytes on the first GET. */
async function cuttingServer(project: Project, answerRange: boolean) {
  const cut = new Set<string>();
  const requests: { key: string; range?: string; ifRange?: string }[] = [];
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const key = decodeURIComponent(new URL(request.url!, 'http://localhost').pathname.slice(1));
    requests.push({ key, range: request.headers.range, ifRange: request.headers['if-range'] as string | undefined });
    const body = await readFile(project.storePath(key)).catch(() => null);
    if (!body) return void response.writeHead(404).end();
    const etag = `"${body.length}-${key.length}"`;
    if (key.endsWith('full.zip') && !cut.has(key)) {
      cut.add(key);
      response.writeHead(200, { 'content-length': body.length, etag });
      response.write(body.subarray(0, body.length >> 1));
      setTimeout(() => response.socket?.destroy(), 50);
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (range && answerRange && request.headers['if-range'] === etag) {
      const from = Number(range[1]);
      response.writeHead(206, { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}`, 'content-length': body.length - from, etag });
      return void response.end(body.subarray(from));
    }
    response.writeHead(200, { 'content-length': body.length, etag }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('fetch --from when the connection is cut mid-body', () => {
  it('resumes the package from where it was cut, pinned to its ETag, and installs it byte for byte', async () => {
    const project = await makeProject({ packages: { maps: { 'big.bin': bigFile(), 'a.txt': 'alpha' } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const server = await cuttingServer(project, true);
    try {
      const device = join(project.dir, 'device', 'maps');
      expect(succeeded(await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--json']))).toMatchObject({ version: '1.0.0', kind: 'full' });
      expect(await snapshotTree(device, { ignore: ['.update-publish.json'] })).toEqual(await snapshotTree(project.packageDir('maps')));
      const resumed = server.requests.filter((request) => request.key.endsWith('full.zip'));
      expect(resumed).toHaveLength(2);
      expect(resumed[1]).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/), ifRange: expect.stringMatching(/^"/) });
    } finally {
      await server.close();
    }
  });

  it('says in one line that the download was cut (exit 1) when the server cannot resume, and keeps the folder', async () => {
    const project = await makeProject({ packages: { maps: { 'big.bin': bigFile() } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const server = await cuttingServer(project, false);
    try {
      const device = join(project.dir, 'device', 'maps');
      const result = await project.run(['fetch', 'maps', '--into', device, '--from', server.url]);
      expect(result.code).toBe(1);
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/was cut and could not be resumed|was cut mid-body/);
      expect(result.stderr).not.toMatch(/a bug in update-publish|unexpected error/);
      expect(await snapshotTree(device)).toEqual({});
    } finally {
      await server.close();
    }
  });
});
