/**
 * A first day without surprises (issue 26): what a new user trips over on the
 * first day — a project's git hygiene, flags every writing command takes,
 * typos caught before anything is written, secrets checked before the first
 * write, messages that say what is wrong, and a store that stays bounded.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import { createSession } from '../../src/cli/session.js';
import type { Moto } from '../helpers/moto.js';
import { MOTO_INSTALLED, s3ProjectConfig, startMotoBucket } from '../helpers/s3-e2e.js';
import { CLI_PATH, expectRefused, makeProject, removeProjects, snapshotTree, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

describe('init and git', () => {
  it('adds .update-publish/ and the folder store to .gitignore, keeps what is there, and says what to commit', async () => {
    const project = await makeProject({ configFile: false });
    await writeFile(join(project.dir, '.gitignore'), 'node_modules/\n/releases');
    const result = await project.run(['init', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(join(project.dir, '.gitignore'), 'utf8')).toBe(
      'node_modules/\n/releases\n# update-publish: local caches and the folder store\n.update-publish/\n',
    );
    expect(result.stdout).toMatch(/\.gitignore: added \.update-publish\//);
    expect(result.stdout).toMatch(/commit: +update-publish\.config\.json, assets\/maps\/, keys\/signing-public\.pem \(never keys\/signing-private\.pem/);

    const fresh = await makeProject({ configFile: false });
    const json = succeeded(await fresh.run(['init', '--yes', '--json', '--no-signing']));
    expect(json).toMatchObject({ gitignored: ['.update-publish/', '/releases/'], toCommit: ['update-publish.config.json', 'assets/maps/'] });
    expect(await readFile(join(fresh.dir, '.gitignore'), 'utf8')).toMatch(/^# update-publish.*\n\.update-publish\/\n\/releases\/\n$/);
  });
});

describe('--yes', () => {
  it('is accepted by every command that writes (every command with --dry-run)', async () => {
    const session = await createSession({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, { cwd: process.cwd(), env: process.env });
    const leaves = (command: Command, parent: string[] = []): { path: string; command: Command }[] =>
      command.commands.flatMap((sub) => (sub.commands.length ? leaves(sub, [...parent, sub.name()]) : [{ path: [...parent, sub.name()].join(' '), command: sub }]));
    const writing = leaves((await createProgram(session)).program).filter(({ command }) => command.options.some((option) => option.long === '--dry-run'));
    expect(writing.map(({ path }) => path)).toEqual(expect.arrayContaining(['publish', 'channel create', 'refresh', 'hooks run', 'gc']));
    expect(writing.filter(({ command }) => !command.options.some((option) => option.long === '--yes')).map(({ path }) => path)).toEqual([]);
  });

  it('channel create, refresh and hooks run take it', async () => {
    const project = await makeProject();
    succeeded(await project.run(['publish', '--yes']));
    for (const args of [['channel', 'create', 'staging', '--yes'], ['refresh', '--yes'], ['hooks', 'run', 'maps', '--yes']]) {
      const result = await project.run(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });
});

describe('wording', () => {
  it('edit --message says what changed, never "- → -"', async () => {
    const project = await makeProject();
    succeeded(await project.run(['publish', '--yes']));
    const notes = await project.run(['edit', 'maps', '--message', 'New tiles', '--yes']);
    expect(notes.code, notes.stderr).toBe(0);
    expect(notes.stdout.trim()).toBe('maps 1.0.0 on production: notes "New tiles"');
    const rules = await project.run(['edit', 'maps', '--platform', 'ios', '--yes']);
    expect(rules.stdout.trim()).toBe('maps 1.0.0 on production: rollout 100% → rollout 100%; platforms ios');
  });

  it('hooks run prints each hook once, then a sum', async () => {
    const project = await makeProject({ config: { hooks: [{ type: 'command', name: 'say', run: 'echo said-it' }] } });
    succeeded(await project.run(['publish', '--yes', '--no-hooks']));
    const result = await project.run(['hooks', 'run', 'maps']);
    expect(result.code, result.stderr).toBe(0);
    const all = `${result.stdout}${result.stderr}`;
    expect(all.match(/say · publish maps@1\.0\.0/g) ?? []).toHaveLength(1);
    expect(result.stdout.trim()).toBe('1 hook for maps@1.0.0 on production (publish): 1 ok');
  });

  it('counts one patch and one whitelist shard in the singular', async () => {
    const big = randomBytes(200 * 1024);
    const project = await makeProject({ packages: { maps: { 'world.db': big, 'readme.txt': 'same in both' } } });
    await writeFile(join(project.dir, 'qa.txt'), 'device-1\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes']));
    succeeded(await project.run(['publish', '--yes', '--rollout', '50', '--whitelist', 'qa']));
    big[1000] ^= 1;
    await project.write('maps', { 'world.db': big });
    const patched = await project.run(['publish', '--yes', '--rollout', '50', '--whitelist', 'qa']);
    expect(patched.code, patched.stderr).toBe(0);
    expect(patched.stderr).toMatch(/delta from 1\.0\.0 [^(]*\([^)]* with 1 patch\)/);
    const resolve = await project.run(['resolve', '--package', 'maps', '--devices', 'qa.txt']);
    expect(resolve.code, resolve.stderr).toBe(0);
    expect(resolve.stderr).toMatch(/resolved 1 device \(1 whitelist shard read\)/);
  });
});

describe('typos caught before anything is written', () => {
  it('a new switch key within a typo of an existing one needs --new', async () => {
    const project = await makeProject();
    succeeded(await project.run(['switch', 'set', 'newCheckout', 'false', '--yes']));
    const before = await snapshotTree(project.store);
    for (const key of ['newcheckout', 'newChekout']) {
      const typo = await project.run(['switch', 'set', key, 'true', '--yes']);
      expectRefused(typo, 2, new RegExp(`switch '${key}' is not on channel 'production'; did you mean 'newCheckout'\\? To add '${key}' as a new key beside it, pass --new`));
    }
    expect(await snapshotTree(project.store)).toEqual(before);
    succeeded(await project.run(['switch', 'set', 'newcheckout', 'true', '--new', '--yes']));
    succeeded(await project.run(['switch', 'set', 'theme', '"blue"', '--yes']));
    expectRefused(await project.run(['switch', 'set', 'theme', '"red"', '--new', '--yes']), 2, /switch 'theme' already exists on channel 'production'; drop --new/);
    const keys = Object.keys((await project.readStoreJson('channels/production/switches.json')).switches).sort();
    expect(keys).toEqual(['newCheckout', 'newcheckout', 'theme']);
  });

  it('a platform outside the known ones is refused with the closest; the config `platforms` adds others', async () => {
    const project = await makeProject();
    expectRefused(await project.run(['publish', '--platform', 'andriod', '--yes']), 2, /unknown platform 'andriod'; did you mean 'android'\? known platforms: ios, android, harmony, web, windows, macos, linux; add others under "platforms" in the config/);
    expect(await snapshotTree(project.store)).toEqual({});
    const appRelease = ['app-release', 'add', '--platform', 'andriod', '--version', '3.0.0', '--url', 'https://example.com/app', '--yes'];
    expectRefused(await project.run(appRelease), 2, /unknown platform 'andriod'; did you mean 'android'\?/);
    expectRefused(await project.run(['switch', 'set', 'x', 'true', '--yes']).then(() => project.run(['switch', 'set', 'x', 'false', '--platform', 'iso', '--yes'])), 2, /unknown platform 'iso'; did you mean 'ios'\?/);
    succeeded(await project.run(['publish', '--platform', 'iOS,harmony', '--yes']));
    expectRefused(await project.run(['edit', 'maps', '--platform', 'tvos', '--yes']), 2, /unknown platform 'tvos'; known platforms: /);

    const extended = await makeProject({ config: { platforms: ['tvos'] } });
    succeeded(await extended.run(['publish', '--platform', 'tvos', '--yes']));
    succeeded(await extended.run(['app-release', 'add', '--platform', 'tvos', '--version', '3.0.0', '--url', 'https://example.com/app', '--yes']));
  });
});

describe('secrets checked before the first write', () => {
  const webhook = { type: 'webhook', name: 'notify', url: 'http://127.0.0.1:9/hook', secret: 'env:FIRST_DAY_HOOK_SECRET', on: ['rollout'] };

  it('a hook secret the command will need is named before anything is written (exit 2), not after the release is live', async () => {
    const project = await makeProject({ config: { hooks: [webhook] } });
    succeeded(await project.run(['publish', '--yes'])); // the hook runs on rollouts only: publish needs no secret
    const before = await snapshotTree(project.store);
    const result = await project.run(['rollout', 'maps', '20', '--yes'], { env: { FIRST_DAY_HOOK_SECRET: undefined } });
    expectRefused(result, 2, /environment variable FIRST_DAY_HOOK_SECRET \(hook 'notify'\) is not set; export it \(or pass --no-hooks for a hook\); nothing was written/);
    expect(await snapshotTree(project.store)).toEqual(before);
    // Without the hooks, nothing needs the secret.
    succeeded(await project.run(['rollout', 'maps', '20', '--yes', '--no-hooks'], { env: { FIRST_DAY_HOOK_SECRET: undefined } }));
  });

  it('an env:NAME signing key is checked before the first upload (as it was already)', async () => {
    const project = await makeProject({ config: { signing: { privateKey: 'env:FIRST_DAY_SIGNING_KEY' } } });
    const result = await project.run(['publish', '--yes'], { env: { FIRST_DAY_SIGNING_KEY: undefined } });
    expectRefused(result, 2, /environment variable FIRST_DAY_SIGNING_KEY .*is not set/);
    expect(await snapshotTree(project.store)).toEqual({});
  });
});

describe('fetch on a signed store', () => {
  it('warns when no --public-key is given, and --require-signatures refuses without one', async () => {
    const project = await makeProject({ config: { signing: { privateKey: 'keys/signing-private.pem' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys']));
    succeeded(await project.run(['publish', '--yes']));
    const into = join(project.dir, 'device');
    const unchecked = await project.run(['fetch', 'maps', '--into', into]);
    expect(unchecked.code, unchecked.stderr).toBe(0);
    expect(unchecked.stderr).toMatch(/warning: the channel index at .* is signed, but no --public-key was given: signatures are not checked; pass --public-key FILE/);
    const checked = await project.run(['fetch', 'maps', '--into', join(project.dir, 'device2'), '--public-key', 'keys/signing-public.pem']);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stderr).not.toMatch(/warning/);
    expectRefused(await project.run(['fetch', 'maps', '--into', join(project.dir, 'device3'), '--require-signatures']), 2, /--require-signatures needs a key to check them with: pass --public-key FILE/);
    succeeded(await project.run(['fetch', 'maps', '--into', join(project.dir, 'device3'), '--require-signatures', '--public-key', 'keys/signing-public.pem']));
  });
});

describe('a delta not meaningfully smaller than the full package', () => {
  it('is not built into the release (deltaMaxRatio, default 80 %), and the publish says why', async () => {
    const project = await makeProject({ packages: { maps: { 'world.bin': randomBytes(64 * 1024), 'readme.txt': 'same' } }, config: { deltaPatches: { enabled: false } } });
    succeeded(await project.run(['publish', '--yes']));
    await project.write('maps', { 'world.bin': randomBytes(64 * 1024) });
    const result = await project.run(['publish', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.packages[0].deltas).toEqual([]);
    expect(result.stderr).toMatch(/maps: packed 1\.0\.1 \(full 64(\.\d)? KiB, no delta from 1\.0\.0: 64(\.\d)? KiB is (99|100)% of the full package \(deltaMaxRatio\)\)/);
    expect(Object.keys(await snapshotTree(project.storePath('packages/maps/1.0.1')))).toEqual(['claim.json', 'full.zip', 'manifest.json']);
    // A small change still gets its delta (from 1.0.1); from 1.0.0, world.bin differs too: none.
    await project.write('maps', { 'readme.txt': 'changed' });
    expect(succeeded(await project.run(['publish', '--yes', '--json'])).packages[0].deltas.map((delta: { from: string }) => delta.from)).toEqual(['1.0.1']);
  });

  it('deltaMaxRatio 1 builds it anyway', async () => {
    const project = await makeProject({ packages: { maps: { 'world.bin': randomBytes(64 * 1024), 'readme.txt': 'same' } }, config: { deltaPatches: { enabled: false }, deltaMaxRatio: 1 } });
    succeeded(await project.run(['publish', '--yes']));
    await project.write('maps', { 'world.bin': randomBytes(64 * 1024) });
    expect(succeeded(await project.run(['publish', '--yes', '--json'])).packages[0].deltas).toHaveLength(1);
  });
});

describe('retention: gc bounds the store', () => {
  it('keeps archived releases without a retention and says why; --keep-archived drops the rest, never what is served, a delta base or a whitelist', async () => {
    const project = await makeProject();
    await writeFile(join(project.dir, 'qa.txt'), 'device-1\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes']));
    for (const content of ['v0', 'v1', 'v2', 'v3', 'v4']) {
      await project.write('maps', { 'a.txt': content });
      succeeded(await project.run(['publish', '--yes', '--whitelist', 'qa']));
    }
    const kept = (json: { kept: { version: string; reasons: string[] }[] }) => Object.fromEntries(json.kept.map((item) => [item.version, item.reasons.join('; ')]));

    const unbounded = await project.run(['gc', '--older-than', '0m', '--json']);
    expect(unbounded.code, unbounded.stderr).toBe(0);
    expect(unbounded.json).toMatchObject({ dryRun: true, deleted: [], prunedArchive: [] });
    expect(kept(unbounded.json)).toEqual({
      '1.0.4': 'served on production',
      '1.0.3': 'delta base on production (a device may hold it)',
      '1.0.2': 'delta base on production (a device may hold it)',
      '1.0.1': 'archived on production (no retention set)',
      '1.0.0': 'archived on production (no retention set)',
    });
    expect(unbounded.stderr).toMatch(/kept maps 1\.0\.1, maps 1\.0\.0: archived on production \(no retention set\)/);

    const before = await snapshotTree(project.store);
    const dryRun = succeeded(await project.run(['gc', '--older-than', '0m', '--keep-archived', '0', '--json']));
    expect(dryRun.prunedArchive).toEqual([{ channel: 'production', package: 'maps', versions: ['1.0.1', '1.0.0'] }]);
    expect(await snapshotTree(project.store)).toEqual(before);

    const bounded = await project.run(['gc', '--older-than', '0m', '--keep-archived', '0', '--yes']);
    expect(bounded.code, bounded.stderr).toBe(0);
    expect(bounded.stdout).toMatch(/^dropped 2 archived releases \(maps 1\.0\.1, 1\.0\.0 on production\)\ndeleted \d+ objects, aborted 0 uploads$/m);
    const left = Object.keys(await snapshotTree(project.store));
    expect(left.filter((key) => key.startsWith('packages/maps/1.0.0/') || key.startsWith('packages/maps/1.0.1/'))).toEqual([]);
    for (const version of ['1.0.2', '1.0.3', '1.0.4']) expect(left).toContain(`packages/maps/${version}/full.zip`);
    expect(left.filter((key) => key.startsWith('whitelists/qa/')).length).toBeGreaterThan(0);
    // What remains is whole: every listed release, archived ones included, checks out.
    succeeded(await project.run(['verify']));
    expectRefused(await project.run(['rollback', 'maps', '--to', '1.0.0', '--yes']), 2, /1\.0\.0/);
  });

  it('config retention { keepArchived, olderThan } applies without flags', async () => {
    const project = await makeProject({ config: { deltas: 1, retention: { keepArchived: 1, olderThan: '90d' } } });
    for (const content of ['v0', 'v1', 'v2', 'v3']) {
      await project.write('maps', { 'a.txt': content });
      succeeded(await project.run(['publish', '--yes']));
    }
    // Released today: within 90 days, so the age keeps every archived release.
    expect(succeeded(await project.run(['gc', '--older-than', '0m', '--json'])).prunedArchive).toEqual([]);
    await writeFile(project.configPath, JSON.stringify({ store: './releases', packages: { maps: { dir: 'assets/maps' } }, deltas: 1, retention: { keepArchived: 1 } }));
    const json = succeeded(await project.run(['gc', '--older-than', '0m', '--json']));
    expect(json.prunedArchive).toEqual([{ channel: 'production', package: 'maps', versions: ['1.0.1', '1.0.0'] }]);
    expect(json.kept.map((item: { version: string; reasons: string[] }) => `${item.version}: ${item.reasons.join('; ')}`)).toEqual([
      '1.0.3: served on production',
      '1.0.2: archived on production (newest 1)',
    ]);
    expectRefused(await project.run(['gc', '--keep-archived', 'all']), 2, /--keep-archived 'all' is not a whole number/);
  });
});

describe('promote and provenance', () => {
  const git = (dir: string, ...args: string[]) => {
    const run = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    return run.stdout.trim();
  };

  it('records a dirty work tree (commit plus dirty: true) in publish --json and history; promote --json carries the commit history records', async () => {
    const project = await makeProject();
    git(project.dir, 'init', '-q');
    git(project.dir, 'add', '-A');
    git(project.dir, 'commit', '-qm', 'assets');
    const head = git(project.dir, 'rev-parse', 'HEAD');
    const clean = succeeded(await project.run(['publish', '--yes', '--json']));
    expect(clean.packages[0]).toMatchObject({ commit: head, dirty: false });

    await project.write('maps', { 'a.txt': 'not committed' });
    const dirty = succeeded(await project.run(['publish', '--yes', '--json']));
    expect(dirty.packages[0]).toMatchObject({ version: '1.0.1', commit: head, dirty: true });
    const history = succeeded(await project.run(['history', 'maps', '--json']));
    expect(history.entries[0]).toMatchObject({ action: 'publish', version: '1.0.1', details: { commit: head, dirty: true } });
    expect(history.entries[1].details).not.toHaveProperty('dirty');
    // The index devices read records the commit, not the work tree's state.
    expect((await project.readStoreJson('channels/production/index.json')).packages.maps.releases[0]).not.toHaveProperty('dirty');

    succeeded(await project.run(['channel', 'create', 'staging', '--yes']));
    const promoted = succeeded(await project.run(['promote', 'maps@1.0.0', '--from', 'production', '--to', 'staging', '--yes', '--json']));
    const staging = succeeded(await project.run(['history', 'maps', '--channel', 'staging', '--json']));
    expect(staging.entries[0].details.commit).toBe(head);
    expect(promoted.commit).toBe(staging.entries[0].details.commit);
  });

  it('warns when the release promoted was rolled back on the source channel', async () => {
    const project = await makeProject();
    succeeded(await project.run(['publish', '--yes']));
    await project.write('maps', { 'a.txt': 'bad' });
    succeeded(await project.run(['publish', '--yes']));
    succeeded(await project.run(['rollback', 'maps', '--yes']));
    succeeded(await project.run(['channel', 'create', 'staging', '--yes']));
    const result = await project.run(['promote', 'maps@1.0.1', '--from', 'production', '--to', 'staging', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: maps 1\.0\.1 was rolled back on 'production' \(its devices were sent back from it\); it is promoted to 'staging' all the same/);
  });
});

describe('messages that say what is wrong', () => {
  it('an unknown config field gets "did you mean"', async () => {
    const project = await makeProject({ configFile: false });
    await writeFile(project.configPath, JSON.stringify({ store: './releases', pakages: { maps: { dir: 'assets/maps' } }, packages: { maps: { dir: 'assets/maps', exlude: [] } } }));
    expectRefused(await project.run(['publish', '--yes']), 2, /packages\.maps: unknown field 'exlude' \(did you mean 'exclude'\?\); \(root\): unknown field 'pakages' \(did you mean 'packages'\?\)/);
  });

  it('a package dir that is a file says so, not "does not exist"', async () => {
    const project = await makeProject({ config: { packages: { maps: { dir: 'assets/maps/a.txt' } } } });
    expectRefused(await project.run(['publish', '--yes']), 2, /package 'maps': .*a\.txt is a file, not a folder; point packages\.maps\.dir/);
  });

  it('an https:// endpoint in front of a plain HTTP server is named as such, not as an OpenSSL record error', async () => {
    const server = createServer((_request, response) => response.end('plain http'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const project = await makeProject({ config: { store: 's3://bucket/updates', s3: { endpoint: `https://127.0.0.1:${port}`, forcePathStyle: true, region: 'us-east-1' } } });
      const result = await project.run(['status'], { env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_MAX_ATTEMPTS: '1' } });
      expectRefused(result, 1, new RegExp(`S3 endpoint https://127\\.0\\.0\\.1:${port} does not answer TLS \\(it speaks plain HTTP\\?\\): write it as http://127\\.0\\.0\\.1:${port} in "s3\\.endpoint"`));
    } finally {
      server.close();
    }
  });
});

describe('completion with npx update-publish', () => {
  it('bash completes `npx update-publish …` as it completes `update-publish …`', () => {
    const script = spawnSync(process.execPath, [CLI_PATH, 'completion', 'bash'], { encoding: 'utf8' }).stdout;
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `eval "$(cat)"; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _update_publish_npx; echo "\${COMPREPLY[@]}"`], {
        input: script,
        encoding: 'utf8',
      }).stdout.trim();
    expect(complete(['npx', 'upd'])).toBe('update-publish');
    expect(complete(['npx', 'update-publish', 'pub'])).toBe('publish');
    expect(complete(['npx', '--no-install', 'update-publish', 'channel', ''])).toBe('create ls rm');
    expect(complete(['npx', 'update-publish', 'publish', '--channel', 'staging', '--ro'])).toBe('--rollout');
    expect(script).toMatch(/complete -o default -F _update_publish_npx npx/);
    const fish = spawnSync(process.execPath, [CLI_PATH, 'completion', 'fish'], { encoding: 'utf8' }).stdout;
    expect(fish).toContain("complete -c npx -n '__fish_seen_subcommand_from update-publish; and __fish_seen_subcommand_from diff' -l exit-code");
  });
});

describe('Ctrl-C at the edges', () => {
  const SIGNAL_AFTER = fileURLToPath(new URL('../helpers/signal-after.cjs', import.meta.url));
  const SLOW_DISK = fileURLToPath(new URL('../helpers/slow-disk.cjs', import.meta.url));

  it('after the install commit, fetch says the package was installed (exit 130), not that nothing was written', async () => {
    const project = await makeProject();
    succeeded(await project.run(['publish', '--yes']));
    const into = join(project.dir, 'device');
    const result = await project.run(['fetch', 'maps', '--into', into], { env: { NODE_OPTIONS: `--require ${SIGNAL_AFTER}`, SIGINT_AFTER_RENAME: into } });
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/error: interrupted by SIGINT: maps 1\.0\.0 was installed into .*device before the interruption took effect/);
    expect(result.stderr).not.toMatch(/stopped before writing anything/);
    expect(await readFile(join(into, 'a.txt'), 'utf8')).toBe('a');
  });

  it('during pack --out, leaves no empty version folders behind, and says so', async () => {
    const project = await makeProject({ packages: { maps: { 'big.bin': randomBytes(3 * 1024 * 1024) } } });
    const result = await project.run(['pack', '--out', 'out'], {
      env: { NODE_OPTIONS: `--require ${SIGNAL_AFTER} --require ${SLOW_DISK}`, SIGINT_AFTER_MKDIR: '/packages/maps/', SLOW_STREAM_MS: '40' },
    });
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/error: interrupted by SIGINT: stopped before any package was complete; nothing was left in out/);
    expect(await snapshotTree(join(project.dir, 'out'))).toEqual({});
    expect(await stat(join(project.dir, 'out')).catch(() => null)).toBeNull();
  });
});

describe.skipIf(!MOTO_INSTALLED)('reading an S3-compatible store without a config', () => {
  let moto: Moto | undefined;
  afterAll(async () => moto?.stop());

  it('status --store s3://… reaches the endpoint AWS_ENDPOINT_URL_S3 names', { timeout: 60_000 }, async () => {
    ({ moto } = await startMotoBucket('firstday'));
    const project = await makeProject({ config: s3ProjectConfig(moto.endpoint, 'firstday', 'updates') });
    succeeded(await project.run(['publish', '--yes']));
    const elsewhere = await makeProject({ configFile: false });
    const status = await elsewhere.run(['status', '--store', 's3://firstday/updates', '--json'], { env: { AWS_ENDPOINT_URL_S3: moto.endpoint } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json.channels[0].packages[0]).toMatchObject({ id: 'maps', latest: '1.0.0' });
  });
});
