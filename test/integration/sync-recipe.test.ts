/**
 * Issue 15, item 7: copying a folder store to S3 with the recipe PROTOCOL.md
 * gives keeps every object class's Cache-Control and Content-Type (a plain
 * `aws s3 sync` drops them). Runs the recipe's own commands against moto.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, REPO_ROOT, succeeded } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { createBucket, MOTO_INSTALLED, rawS3 } from '../helpers/s3-e2e.js';

const AWS_CLI = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;

/** The shell commands of PROTOCOL.md §2's recipe, joined where a line ends with a backslash. */
async function recipe(): Promise<string[]> {
  const text = await readFile(join(REPO_ROOT, 'PROTOCOL.md'), 'utf8');
  const block = /\*\*Keeping headers when copying a folder store to S3\.\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(text)?.[1];
  if (!block) throw new Error('PROTOCOL.md has no sync recipe');
  return block.replace(/\\\n\s*/g, ' ').split('\n').filter((line) => line.trim());
}

describe.skipIf(!MOTO_INSTALLED || !AWS_CLI)('the S3 copy recipe keeps headers', () => {
  let moto: Moto;
  let s3: S3Client;
  beforeAll(async () => {
    moto = await startMoto();
    s3 = rawS3(moto.endpoint);
    await createBucket(s3, 'synced');
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
    await removeProjects();
  });

  it('immutable packages, no-cache documents, JSON and zip content types', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    for (const command of await recipe()) {
      // Words as the shell splits them: quoted values hold spaces.
      const [program, ...words] = command.match(/'[^']*'|\S+/g)!.map((word) => word.replace(/^'(.*)'$/, '$1'));
      expect(program).toBe('aws');
      const args = words.map((word) => (word === 'releases/' ? `${project.store}/` : word.replace('s3://bucket/prefix/', 's3://synced/app/')));
      execFileSync('aws', [...args, '--endpoint-url', moto.endpoint], { env: { ...process.env, ...moto.env }, stdio: 'pipe' });
    }
    const head = (key: string) => s3.send(new HeadObjectCommand({ Bucket: 'synced', Key: `app/${key}` }));
    const index = await head('channels/production/index.json');
    expect(index.CacheControl).toBe('no-cache, max-age=0');
    expect(index.ContentType).toBe('application/json');
    const manifest = await head('packages/maps/1.0.0/manifest.json');
    expect(manifest.CacheControl).toBe('public, max-age=31536000, immutable');
    const full = await head('packages/maps/1.0.0/full.zip');
    expect(full.CacheControl).toBe('public, max-age=31536000, immutable');
    expect(full.ContentType).toBe('application/zip');
  });
});
