/**
 * Issue 28 (a second attacker's trial): what the CLI prints and which files it trusts.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, runCli, removeProjects, snapshotTree, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';
const HOSTILE = '\u001b]0;owned\u0007\u001b[32mall good\u001b[0m\u009b2J';

describe('terminal escapes in stored text (item 4)', () => {
  it('a message with control characters is refused at write time, one line, exit 2, nothing written', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'a' } } });
    const before = await snapshotTree(project.dir);
    expectRefused(await project.run(['publish', '--yes', '--message', HOSTILE]), 2, /--message holds the control character \\x1b; give plain text/);
    expect(await snapshotTree(project.dir)).toEqual(before);
    succeeded(await project.run(['publish', '--yes', '--json', '--message', 'line one\n\tline two']));
  });

  it('status and history print a stored message and actor with their control characters escaped, colour on or off', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'a' } } });
    succeeded(await project.run(['publish', '--yes', '--json', '--message', 'plain']));
    const index = await project.readStoreJson(INDEX);
    index.packages.maps.releases[0].message = HOSTILE;
    await writeFile(project.storePath(INDEX), JSON.stringify(index));
    for (const env of [{}, { NO_COLOR: undefined, FORCE_COLOR: '1' }]) {
      for (const command of [['status'], ['history', 'maps']]) {
        const result = await project.run(command, { env: { ...env, GITHUB_ACTOR: `ci\u001b]0;x\u0007` } });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout + result.stderr).not.toMatch(/\u001b\]|\u0007|\u009b|\u001b\[32m/);
      }
    }
    const status = await project.run(['status']);
    expect(status.stdout).toContain('\\x1b]0;owned');
  });
});

describe('config discovery (item 5)', () => {
  it('never runs a config from a parent folder outside the repository; inside one it finds it and says which file', async () => {
    const outer = await makeProject({ packages: { maps: { 'a.txt': 'a' } }, configFile: false });
    // A config in a shared parent folder (e.g. /tmp): loading it would run its code.
    await writeFile(join(outer.dir, 'update-publish.config.js'), `require('node:fs').writeFileSync(${JSON.stringify(join(outer.dir, 'ran'))}, 'x'); module.exports = { store: './releases', packages: {} };`);
    const repo = join(outer.dir, 'repo');
    await mkdir(join(repo, '.git'), { recursive: true });
    await mkdir(join(repo, 'app', 'src'), { recursive: true });
    const inRepo = await runCli(['status'], { cwd: join(repo, 'app', 'src') });
    expect(inRepo.code).toBe(2);
    expect(inRepo.stderr).toMatch(new RegExp(`no update-publish config found from .*src up to .*repo;`));
    expect(existsSync(join(outer.dir, 'ran'))).toBe(false);

    await writeFile(join(repo, 'update-publish.config.json'), JSON.stringify({ store: './releases', packages: { maps: { dir: '.' } } }));
    const found = await runCli(['status'], { cwd: join(repo, 'app', 'src') });
    expect(found.code, found.stderr).toBe(0);
    expect(found.stderr).toContain(`using config ${join(repo, 'update-publish.config.json')}`);
    expect(existsSync(join(outer.dir, 'ran'))).toBe(false);
  });
});

describe('secrets never printed, whatever path (item 3)', () => {
  it('a command hook gets only the environment it needs; what it prints of a secret it was given, and a webhook reply echoing a token, are masked', async () => {
    const keys = await makeProject({ configFile: false });
    succeeded(await keys.run(['keys', 'generate', '--out', 'keys', '--json']));
    const pem = await readFile(join(keys.dir, 'keys', 'signing-private.pem'), 'utf8');
    const aes = randomBytes(32).toString('base64');
    const token = `Bearer ${randomBytes(24).toString('hex')}`;
    const hmac = randomBytes(20).toString('hex');
    // Echoes the request's headers after 190 bytes, so a reply cut at 200 characters holds only the start of the token.
    const echo = createServer((request, response) => {
      response.writeHead(400).end(`${'x'.repeat(190)}${request.headers.authorization} ${JSON.stringify(request.headers)}`);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/hook`;
      const project = await makeProject({
        packages: { maps: { 'a.txt': 'a' } },
        config: {
          signing: { privateKey: 'env:SIGNING_PEM' },
          encryption: { key: 'env:CONTENT_AES' },
          hooks: [
            { type: 'command', name: 'printenv', run: 'env; echo "pem: $SIGNING_PEM"' },
            { type: 'command', name: 'given', run: 'echo "aes: $CONTENT_AES"; printf "%s\\n" "$SIGNING_PEM"', env: ['CONTENT_AES', 'SIGNING_PEM'] },
            { type: 'webhook', name: 'echo', url, headers: { authorization: 'env:HOOK_AUTH' }, secret: 'env:HOOK_HMAC', attempts: 1 },
          ],
        },
      });
      const env = { SIGNING_PEM: pem, CONTENT_AES: aes, HOOK_AUTH: token, HOOK_HMAC: hmac, UP_UNRELATED: 'visible-marker' };
      for (const json of [false, true]) {
        await project.write('maps', { 'a.txt': `content ${json}` });
        const result = await project.run(['publish', '--yes', ...(json ? ['--json'] : []), '--version', json ? '1.0.1' : '1.0.0'], { env });
        const printed = result.stdout + result.stderr;
        expect(printed).toContain('printenv │ PATH=');
        expect(printed).not.toContain('visible-marker');
        expect(printed).toContain('aes: [redacted]');
        for (const secret of [aes, Buffer.from(aes, 'base64').toString('hex'), hmac, token.slice(7, 23), ...pem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'))]) {
          expect(printed, secret).not.toContain(secret);
        }
      }
    } finally {
      echo.close();
    }
  });
});

describe('verify checks every document devices or later commands read (item 10)', () => {
  it('an altered base manifest, switches and app-releases histories and whitelist meta are each reported', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha', 'b.txt': 'bravo' } }, config: { signing: { privateKey: 'keys/signing-private.pem' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    await mkdir(join(project.dir, 'app-assets'), { recursive: true });
    await writeFile(join(project.dir, 'app-assets', 'a.txt'), 'old alpha');
    succeeded(await project.run(['base', 'add', 'maps', '--dir', 'app-assets', '--version', '0.9.0', '--yes', '--json']));
    succeeded(await project.run(['publish', '--yes', '--json']));
    await writeFile(join(project.dir, 'qa.txt'), 'qa-1\nqa-2\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
    succeeded(await project.run(['switch', 'set', 'retries', '3', '--yes', '--json']));
    succeeded(await project.run(['switch', 'set', 'retries', '4', '--yes', '--json']));
    succeeded(await project.run(['app-release', 'add', '--platform', 'ios', '--version', '3.0.0', '--url', 'https://apps.example.com/x', '--yes', '--json']));
    expect(succeeded(await project.run(['verify', '--json'])).problems).toEqual([]);

    const stored = await snapshotTree(project.store);
    const pick = (pattern: RegExp) => {
      const key = Object.keys(stored).find((candidate) => pattern.test(candidate));
      expect(key, String(pattern)).toBeDefined();
      return key!;
    };
    const altered = [
      pick(/^packages\/maps\/0\.9\.0\/manifest\.json$/),
      pick(/^channels\/production\/switches\/history\.json$/),
      pick(/^channels\/production\/app-releases\/history\.json$/),
      pick(/^whitelists\/qa\/meta\.json$/),
    ];
    for (const key of altered) {
      const document = await project.readStoreJson(key);
      // A change anywhere that a reader takes: the signature (or the index's SHA-256) no longer matches.
      await writeFile(project.storePath(key), JSON.stringify({ ...document, note: 'altered' }));
    }
    const result = await project.run(['verify', '--json']);
    expect(result.code).toBe(1);
    const problemKeys = JSON.parse(result.stdout).problems.map((problem: { key: string }) => problem.key);
    for (const key of altered) expect(problemKeys, key).toContain(key);
  });
});
