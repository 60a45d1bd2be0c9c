/**
 * A project whose store is private (config `access`, scope packages or all),
 * with its CloudFront key pair written by `access keys generate` and one
 * release published; and botocore's signer (cloudfront_sign.py), an
 * independent one, for serve --private.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_PATH, makeProject, REPO_ROOT, succeeded, type FileTree, type Project } from './cli.js';

export const PRIVATE_BASE_URL = 'https://cdn.example.test/updates';
export const KEY_PAIR_ID = 'K2JCJMDEHXQW5F';

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
