/**
 * `init` end to end against the built CLI: the wizard answered at a real
 * terminal (tmux), the flags path, the templates it writes, and never waiting
 * for input without a terminal.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { CLI_PATH, makeProject, removeProjects, REPO_ROOT, sha256, succeeded } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { closeTerminals, openTerminal, tmuxInstalled } from '../helpers/terminal.js';
import { MOTO } from '../helpers/prerequisites.js';

const motoInstalled = MOTO.installed;

const templatePath = (name: string) => join(REPO_ROOT, 'templates', name);
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

afterAll(async () => {
  await closeTerminals();
  await removeProjects();
});

/** A local webhook receiver: every POST body, parsed. */
async function webhookReceiver() {
  const bodies: any[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    response.writeHead(204).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/release`, bodies, close: () => server.close() };
}

describe.skipIf(!tmuxInstalled)('init wizard at a terminal', () => {
  it('asks every question and writes a config that publish then accepts', async () => {
    const project = await makeProject({ configFile: false, packages: { maps: { 'tiles/a.json': '{"a":1}' }, levels: { 'l1.json': '1' } } });
    const webhook = await webhookReceiver();
    try {
      const wizard = await openTerminal(['init'], { cwd: project.dir });
      await wizard.waitFor('Where should packages be stored?');
      await wizard.keys('Enter'); // a local folder (the default)
      await wizard.waitFor('Store folder:');
      await wizard.keys('Enter'); // ./releases
      await wizard.waitFor('Which folders are packages?');
      // Both assets/ folders are offered and preselected; the cursor is on assets/levels: drop it.
      expect(await wizard.screen()).toMatch(/assets\/levels[\s\S]*assets\/maps/);
      await wizard.keys('Space', 'Enter');
      await wizard.waitFor('Default channel');
      await wizard.type('Staging');
      await wizard.keys('Enter');
      await wizard.waitFor("use lowercase letters, digits, '.', '_' or '-'"); // refused, asked again
      await wizard.keys('C-u');
      await wizard.type('staging');
      await wizard.keys('Enter');
      await wizard.waitFor('Generate a signing key pair');
      await wizard.keys('y', 'Enter');
      await wizard.waitFor('Run after each release');
      await wizard.keys('Down', 'Down', 'Space', 'Enter'); // webhook only
      await wizard.waitFor('Webhook URL:');
      await wizard.type(webhook.url);
      await wizard.keys('Enter');
      expect(await wizard.exitCode()).toBe(0);
      expect(await wizard.screen()).toContain('npx update-publish publish --dry-run');

      const written = await readJson(join(project.dir, 'update-publish.config.json'));
      expect(configSchema.safeParse(written).success).toBe(true);
      expect(written).toMatchObject({
        store: './releases',
        channel: 'staging',
        packages: { maps: { dir: 'assets/maps' } },
        hooks: [{ type: 'webhook', url: webhook.url }],
        signing: { privateKey: 'keys/signing-private.pem' },
      });
      expect(Object.keys(written.packages)).toEqual(['maps']);
      expect((await stat(join(project.dir, 'keys/signing-private.pem'))).mode & 0o077).toBe(0);
      expect(await readFile(join(project.dir, 'keys/.gitignore'), 'utf8')).toContain('signing-private.pem');

      const published = await project.run(['publish', '--yes', '--json']);
      expect(published.code, published.stderr).toBe(0);
      expect(published.json).toMatchObject({ channel: 'staging', packages: [{ id: 'maps', status: 'published' }] });
      expect(webhook.bodies).toMatchObject([{ event: 'publish', package: 'maps', channel: 'staging' }]);
    } finally {
      webhook.close();
    }
  });

  it('asks S3 questions for an S3-compatible store', async () => {
    const project = await makeProject({ configFile: false });
    const wizard = await openTerminal(['init'], { cwd: project.dir });
    await wizard.waitFor('Where should packages be stored?');
    await wizard.keys('Down', 'Down', 'Enter');
    await wizard.waitFor('Endpoint URL');
    await wizard.type('http://localhost:9000');
    await wizard.keys('Enter');
    await wizard.waitFor('Bucket:');
    await wizard.type('Not_A_Bucket');
    await wizard.keys('Enter');
    await wizard.waitFor('names an invalid bucket'); // the store's own check, shown at the prompt
    await wizard.keys('C-u');
    await wizard.type('content');
    await wizard.keys('Enter');
    await wizard.waitFor('Key prefix');
    await wizard.keys('Enter'); // updates
    await wizard.waitFor('Region');
    await wizard.keys('C-u');
    await wizard.type('us-east-1');
    await wizard.keys('Enter');
    for (const prompt of ['Which folders are packages?', 'Default channel', 'Generate a signing key pair', 'Run after each release']) {
      await wizard.waitFor(prompt);
      await wizard.keys('Enter');
    }
    expect(await wizard.exitCode()).toBe(0);
    expect(await readJson(project.configPath)).toMatchObject({
      store: 's3://content/updates',
      s3: { region: 'us-east-1', endpoint: 'http://localhost:9000', forcePathStyle: true },
      packages: { maps: { dir: 'assets/maps' } },
      hooks: [],
    });
  });

  it('Ctrl-C cancels without writing anything', async () => {
    const project = await makeProject({ configFile: false });
    const wizard = await openTerminal(['init'], { cwd: project.dir });
    await wizard.waitFor('Where should packages be stored?');
    await wizard.keys('C-c');
    expect(await wizard.exitCode()).toBe(130);
    expect(await wizard.screen()).toContain('error: init cancelled; nothing was written');
    await expect(stat(project.configPath)).rejects.toThrow();
  });

  it('never prompts with --json, even at a terminal', async () => {
    const project = await makeProject({ configFile: false });
    const session = await openTerminal(['init', '--json'], { cwd: project.dir });
    expect(await session.exitCode()).toBe(2);
    expect(await session.screen()).toContain('"exitCode": 2');
    await expect(stat(project.configPath)).rejects.toThrow();
  });
});

describe.skipIf(!tmuxInstalled)('init wizard: an SNS hook for an S3-compatible store', () => {
  it('keeps the store region (R2: auto) out of the SNS hook', async () => {
    const project = await makeProject({ configFile: false });
    const wizard = await openTerminal(['init'], { cwd: project.dir, env: { AWS_REGION: undefined } });
    await wizard.waitFor('Where should packages be stored?');
    await wizard.keys('Down', 'Down', 'Enter');
    await wizard.waitFor('Endpoint URL');
    await wizard.type('https://account.r2.cloudflarestorage.com');
    await wizard.keys('Enter');
    await wizard.waitFor('Bucket:');
    await wizard.type('content');
    await wizard.keys('Enter');
    await wizard.waitFor('Key prefix');
    await wizard.keys('Enter');
    await wizard.waitFor('Region (R2: auto');
    await wizard.keys('Enter'); // auto
    for (const prompt of ['Which folders are packages?', 'Default channel', 'Generate a signing key pair']) {
      await wizard.waitFor(prompt);
      await wizard.keys('Enter');
    }
    await wizard.waitFor('Run after each release');
    await wizard.keys('Down', 'Space', 'Enter'); // SNS
    await wizard.waitFor('SNS topic ARN');
    await wizard.keys('Enter'); // env:UPDATE_PUBLISH_SNS_TOPIC
    expect(await wizard.exitCode()).toBe(0);
    const written = await readJson(project.configPath);
    expect(written.s3).toMatchObject({ region: 'auto', endpoint: 'https://account.r2.cloudflarestorage.com' });
    expect(written.hooks).toEqual([{ type: 'sns', topicArn: 'env:UPDATE_PUBLISH_SNS_TOPIC' }]);
  });
});

describe('init without a terminal', () => {
  it('fails at once with a one-line hint instead of waiting for input', async () => {
    const project = await makeProject({ configFile: false });
    for (const env of [{ CI: 'true' }, { CI: undefined }]) {
      // stdin stays open: a prompt would wait forever and the test would time out.
      const child = spawn(process.execPath, [CLI_PATH, 'init'], {
        cwd: project.dir,
        env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, value]) => value !== undefined)),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const [code] = await once(child, 'exit');
      child.stdin.end();
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^error: .*pass --yes/);
    }
    await expect(stat(project.configPath)).rejects.toThrow();
  }, 30_000);
});

describe('init flags', () => {
  it('--yes writes the folder starter template, with every assets/ folder as a package', async () => {
    const empty = await makeProject({ configFile: false, packages: {} });
    expect((await empty.run(['init', '--yes'])).code).toBe(0);
    expect(await readJson(empty.configPath)).toEqual(await readJson(templatePath('update-publish.config.json')));

    const project = await makeProject({ configFile: false, packages: { maps: { 'a.txt': 'a' }, levels: { 'b.txt': 'b' } } });
    const result = await project.run(['init', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.packages).toEqual([
      { id: 'levels', dir: 'assets/levels' },
      { id: 'maps', dir: 'assets/maps' },
    ]);
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
  });

  it.each([
    ['config.s3.json', ['--store', 's3://my-app-updates/updates', '--region', 'us-east-1']],
    [
      'config.s3-cloudfront-sns.json',
      ['--store', 's3://my-app-updates/updates', '--region', 'us-east-1', '--cloudfront', 'E1ABCDEF2GHIJK', '--sns', 'env:UPDATE_PUBLISH_SNS_TOPIC'],
    ],
  ])('the %s template is exactly what init writes for its flags', async (template, flags) => {
    const project = await makeProject({ configFile: false, packages: {} });
    const result = await project.run(['init', '--yes', ...flags]);
    expect(result.code, result.stderr).toBe(0);
    const written = await readFile(project.configPath, 'utf8');
    expect(written).toBe(await readFile(templatePath(template), 'utf8'));
    expect(configSchema.safeParse(JSON.parse(written)).success).toBe(true);
  });

  it('takes id=dir package pairs, generates keys once, and refuses to overwrite without --force', async () => {
    const project = await makeProject({ configFile: false, packages: {} });
    const first = await project.run(['init', '--yes', '--json', '--packages', 'maps=art/maps,levels', '--channel', 'beta', '--signing']);
    expect(first.code, first.stderr).toBe(0);
    expect(await readJson(project.configPath)).toMatchObject({
      channel: 'beta',
      packages: { maps: { dir: 'art/maps' }, levels: { dir: 'assets/levels' } },
      signing: { privateKey: 'keys/signing-private.pem' },
    });
    expect(first.json.signing).toMatchObject({ created: true, keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(first.json.next[0]).toContain('art/maps, assets/levels');
    const key = sha256(await readFile(join(project.dir, 'keys/signing-private.pem')));

    const again = await project.run(['init', '--yes']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists.*--force/);

    const forced = await project.run(['init', '--yes', '--force', '--json', '--signing']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json.signing).toMatchObject({ created: false, keyId: first.json.signing.keyId });
    expect(sha256(await readFile(join(project.dir, 'keys/signing-private.pem')))).toBe(key);
  });

  it('refuses credentials in the endpoint URL instead of writing them into the config, and never prints them', async () => {
    const project = await makeProject({ configFile: false, packages: {} });
    const flags = ['init', '--yes', '--store', 's3://bucket/x', '--endpoint', 'http://minio:s3cr3t-pass@127.0.0.1:9000'];
    for (const result of [await project.run(flags), await project.run([...flags, '--json'])]) {
      expect(result.code).toBe(2);
      expect(result.stdout + result.stderr).not.toContain('s3cr3t-pass');
      expect(result.stderr).toMatch(/--endpoint the URL given holds credentials/);
    }
    await expect(stat(project.configPath)).rejects.toThrow();
  });

  it('gives an S3-compatible store\'s SNS hook no store region (R2: auto): the ARN\'s, or the SDK chain', async () => {
    const project = await makeProject({ configFile: false, packages: {} });
    const r2 = ['init', '--yes', '--store', 's3://content/updates', '--endpoint', 'https://account.r2.cloudflarestorage.com', '--region', 'auto'];
    succeeded(await project.run([...r2, '--sns', 'env:UPDATE_PUBLISH_SNS_TOPIC']));
    expect((await readJson(project.configPath)).hooks).toEqual([{ type: 'sns', topicArn: 'env:UPDATE_PUBLISH_SNS_TOPIC' }]);
    succeeded(await project.run([...r2, '--sns', 'arn:aws:sns:eu-west-1:123456789012:app-updates', '--force']));
    expect((await readJson(project.configPath)).hooks).toEqual([{ type: 'sns', topicArn: 'arn:aws:sns:eu-west-1:123456789012:app-updates', region: 'eu-west-1' }]);
  });

  it('names the whitelist a starter preset needs before that preset can be used', async () => {
    const project = await makeProject({ configFile: false });
    const init = succeeded(await project.run(['init', '--yes', '--json']));
    expect(init.next).toContain("before 'publish --rules beta': upload the whitelist it names: npx update-publish whitelist upload qa <file of device ids>");
  });

  it.each([
    [['--channel', 'Prod'], /channel/],
    [['--packages', 'Maps'], /package id 'Maps'/],
    [['--region', 'eu-west-1'], /--region only applies to an s3:\/\/bucket\/prefix store/],
    [['--store', 's3://Bad_Bucket/x'], /invalid bucket/],
    [['--webhook', 'ftp://example.com'], /--webhook 'ftp:\/\/example\.com' is not an http\(s\) URL/],
    [['--store', 'S3://bucket/x'], /store 'S3:\/\/bucket\/x' is not an S3 URL; write s3:\/\/bucket\/prefix/],
    [['--store', 's3://bucket/x', '--endpoint', 'ftp://host'], /--endpoint 'ftp:\/\/host' is not an http\(s\) URL/],
    // What the wizard refuses, the flags are refused too.
    [['--store', 's3://bucket/x', '--cloudfront', 'nope'], /--cloudfront 'nope' is not a CloudFront distribution id like E1ABCDEF2GHIJK/],
    [['--sns', 'my-topic'], /--sns 'my-topic' is not an SNS topic ARN/],
    [['--webhook', 'https://user:secret@hooks.example.com/x'], /--webhook the URL given holds credentials/],
  ])('refuses bad answers %j with exit 2, one line, and writes nothing', async (flags, message) => {
    const project = await makeProject({ configFile: false, packages: {} });
    const result = await project.run(['init', '--yes', ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    await expect(stat(project.configPath)).rejects.toThrow();
  });
});

describe.skipIf(!motoInstalled)('init for an S3-compatible store', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => moto?.stop());

  it('writes a config publish uploads with (path-style addressing at the endpoint)', async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'content' }));
    const project = await makeProject({ configFile: false });
    const init = await project.run(['init', '--yes', '--store', 's3://content/updates', '--endpoint', moto.endpoint, '--region', 'us-east-1'], { env: moto.env });
    expect(init.code, init.stderr).toBe(0);
    const published = await project.run(['publish', '--yes', '--json'], { env: moto.env });
    expect(published.code, published.stderr).toBe(0);
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'content', Key: 'updates/channels/production/index.json' }))).resolves.toBeTruthy();
    s3.destroy();
  });
});
