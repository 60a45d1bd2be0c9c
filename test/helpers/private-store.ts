/**
 * A project whose store is private (config `access`, scope packages or all),
 * with its CloudFront key pair written by `access keys generate` and one
 * release published; and botocore's signer (cloudfront_sign.py), an
 * independent one, for serve --private.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_PATH, makeProject, REPO_ROOT, succeeded, type FileTree, type Project } from './cli.js';

export const PRIVATE_BASE_URL = 'https://cdn.example.test/updates';
export const KEY_PAIR_ID = 'K2JCJMDEHXQW5F';
/** Large and incompressible: a download spans many chunks, so it can be cut mid-way. */
export const LARGE_PACKAGE: FileTree = { 'a.txt': 'alpha\n', 'big.bin': randomBytes(3 * 1024 * 1024) };

export async function privateProject(scope: 'packages' | 'all' = 'packages', files: FileTree = { 'a.txt': 'alpha\n'.repeat(200), 'sub/b.txt': 'bravo\n' }): Promise<Project> {
  const project = await makeProject({
    packages: { maps: files },
    config: { access: { keyPairId: KEY_PAIR_ID, privateKey: 'keys/cloudfront-private.pem', publicKey: 'keys/cloudfront-public.pem', baseUrl: PRIVATE_BASE_URL, scope } },
  });
  succeeded(await project.run(['access', 'keys', 'generate', '--out', 'keys', '--json']));
  succeeded(await project.run(['publish', '--yes', '--json']));
  return project;
}

/** botocore's signed URL for `url` (canned policy unless a resource, start or IP is given). */
export async function botocoreUrl(keyFile: string, url: string, expires: number, extra: string[] = [], keyPairId = KEY_PAIR_ID): Promise<string> {
  const { stdout } = await promisify(execFile)('python3', [join(REPO_ROOT, 'test/helpers/cloudfront_sign.py'), keyFile, keyPairId, url, String(expires), ...extra]);
  return stdout.trim();
}

/** A shell command that prints what `access sign --json` prints, for fetch --credentials-command (the built CLI). */
export const signCommand = (...args: string[]) => [process.execPath, CLI_PATH, 'access', 'sign', '--json', ...args].map((word) => `'${word}'`).join(' ');

/**
 * A shell script handing out an entitlement of 6 s on its first call and of
 * an hour on later ones; `calls()` counts its runs.
 */
export async function expiringEntitlement(dir: string): Promise<{ script: string; calls: () => Promise<number> }> {
  const log = join(dir, 'entitlement-calls.log');
  await writeFile(log, '');
  const script = join(dir, 'entitlement.sh');
  await writeFile(script, `#!/bin/sh\necho call >> '${log}'\nif [ "$(wc -l < '${log}')" -le 1 ]; then exec ${signCommand('--ttl', '6s')}; fi\nexec ${signCommand('--ttl', '1h')}\n`, { mode: 0o755 });
  return { script, calls: async () => (await readFile(log, 'utf8')).trim().split('\n').filter(Boolean).length };
}

export interface CuttingProxy {
  url: string;
  /** Every request forwarded: path (no query: it may hold a credential), status, and whether it asked for a range. */
  requests: { url: string; status: number; range?: string }[];
  close(): Promise<void>;
}

/**
 * Between a device and serve: the first 200 answer for a full package sends
 * its first chunk, then holds for 7.5 s and cuts the connection, so a 6 s
 * entitlement signed before the request has expired when the device resumes.
 */
export async function startCuttingProxy(target: string): Promise<CuttingProxy> {
  const requests: CuttingProxy['requests'] = [];
  let cut = false;
  const proxy = createServer((request, response) => {
    const upstream = httpRequest(new URL(request.url!, target), { method: request.method, headers: request.headers }, (answer) => {
      requests.push({ url: request.url!.split('?')[0]!, status: answer.statusCode!, range: request.headers.range });
      response.writeHead(answer.statusCode!, answer.headers);
      if (cut || !request.url!.includes('full.zip') || answer.statusCode !== 200) return void answer.pipe(response);
      cut = true;
      answer.once('data', (chunk: Buffer) => {
        answer.pause();
        response.write(chunk);
        setTimeout(() => {
          answer.destroy();
          response.socket?.destroy();
        }, 7500);
      });
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}
