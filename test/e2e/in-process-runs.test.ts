/**
 * cwd and env belong to a CLI session, not to the process (issue 21): two
 * runs of src/cli/run.ts in one process, overlapping, each with its own
 * folder and environment, each see only their own.
 */
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { generateSigningKeyPair } from '../../src/keys/signing-keys.js';
import { makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';
import type { Moto } from '../helpers/moto.js';
import { MOTO_INSTALLED, s3ProjectConfig, startMotoBucket } from '../helpers/s3-e2e.js';

afterAll(removeProjects);

/** A run of runCli itself (not the test helper) with captured streams. */
async function run(args: string[], cwd: string, env: Record<string, string | undefined>) {
  const chunks: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
  const sink = (into: Buffer[]) => new Writable({ write: (chunk, _encoding, done) => (into.push(Buffer.from(chunk)), done()) });
  const code = await runCli(args, {
    cwd,
    env: { CI: 'true', NO_COLOR: '1', ...env },
    stdout: sink(chunks.stdout),
    stderr: sink(chunks.stderr),
    stdin: Readable.from([]),
  });
  return { code, stdout: Buffer.concat(chunks.stdout).toString('utf8'), stderr: Buffer.concat(chunks.stderr).toString('utf8') };
}

describe('in-process runs', () => {
  it('overlap without sharing a working folder or an environment: each finds its config, its store, its env:NAME key and its actor', async () => {
    const projects: Project[] = [];
    const keys = [generateSigningKeyPair(), generateSigningKeyPair()];
    for (const content of ['first', 'second']) {
      // Both configs read the key from the same variable: each run must see its own value.
      projects.push(await makeProject({ packages: { maps: { 'a.txt': content } }, config: { signing: { privateKey: 'env:OVERLAP_SIGNING_KEY' } } }));
    }
    const envs = keys.map((key, at) => ({ OVERLAP_SIGNING_KEY: key.privateKeyPem, GITHUB_ACTOR: `actor-${at}` }));
    const results = await Promise.all(projects.map((project, at) => run(['publish', '--yes', '--json'], project.dir, envs[at])));

    for (const [at, project] of projects.entries()) {
      expect(results[at].code, results[at].stderr).toBe(0);
      // The config found from this run's folder, so the store beside it.
      const index = await project.readStoreJson('channels/production/index.json');
      expect(index.signatures.map((signature: { keyid: string }) => signature.keyid)).toEqual([keys[at].keyId]);
      const history = await project.readStoreJson('channels/production/history/maps.json');
      expect(history.entries.map((entry: { actor: string }) => entry.actor)).toEqual([`actor-${at}`]);
    }
  });

  it('never change the process: its folder and variables are as they were, during and after', async () => {
    const project = await makeProject();
    const cwd = process.cwd();
    const running = run(['publish', '--yes', '--json'], project.dir, { UPDATE_PUBLISH_CHANNEL: 'production', OVERLAP_MARK: 'set' });
    expect(process.cwd()).toBe(cwd);
    expect(process.env.OVERLAP_MARK).toBeUndefined();
    expect((await running).code).toBe(0);
    expect(process.cwd()).toBe(cwd);
    expect(process.env.OVERLAP_MARK).toBeUndefined();
  });
});

describe.skipIf(!MOTO_INSTALLED)('in-process runs against S3', () => {
  let moto: Moto | undefined;
  afterAll(async () => moto?.stop());

  it('each reach the endpoint their own AWS_ENDPOINT_URL_S3 names, at the same time', { timeout: 60_000 }, async () => {
    ({ moto } = await startMotoBucket('overlap'));
    const project = await makeProject({ config: s3ProjectConfig(moto.endpoint, 'overlap', 'updates') });
    succeeded(await project.run(['publish', '--yes']));
    const elsewhere = await makeProject({ configFile: false });
    const status = (endpoint: string) => run(['status', '--store', 's3://overlap/updates', '--json'], elsewhere.dir, { ...moto!.env, AWS_ENDPOINT_URL_S3: endpoint });
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const [reached, refused] = await Promise.all([status(moto.endpoint), status('http://127.0.0.1:9')]);
    expect(reached.code, reached.stderr).toBe(0);
    expect(JSON.parse(reached.stdout).channels[0].packages[0]).toMatchObject({ id: 'maps', latest: '1.0.0' });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/cannot reach .*ECONNREFUSED/);
  });
});
