import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, snapshotTree, succeeded, type CliResult, type Project } from '../helpers/cli.js';
import { scanPackage } from '../../src/pack/scan.js';

afterAll(removeProjects);

/**
 * A user error: exit 2, stderr exactly one line `error: …` naming the problem,
 * no stack trace, no result on stdout. `afterProgress`: the error is found
 * after files were hashed, so progress lines may come before it.
 */
function expectUserError(result: CliResult, message: RegExp, options: { afterProgress?: boolean } = {}) {
  expect(result.stderr).not.toMatch(/^ {4}at /m);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  if (options.afterProgress) {
    expect(lines.filter((line) => line.startsWith('error:'))).toHaveLength(1);
  } else {
    expect(lines).toHaveLength(1);
  }
  const errorLine = lines.at(-1)!;
  expect(errorLine).toMatch(/^error: /);
  expect(errorLine).toMatch(message);
  expect(result.code).toBe(2);
}

/**
 * One project for every case: `maps` is published and then changed, so a
 * publish that went through would write; `ghost` has no folder, `empty` no
 * files. Each case breaks something, checks the store did not change, and
 * puts things back.
 */
describe('bad input: one-line error, exit 2, nothing written', () => {
  let project: Project;
  let store: Record<string, string>;
  const attempt = async (args: string[], message: RegExp, options?: { afterProgress?: boolean }) => {
    const result = await project.run(args);
    expectUserError(result, message, options);
    expect(await snapshotTree(project.store)).toEqual(store);
    return result;
  };

  beforeAll(async () => {
    project = await makeProject({
      packages: { maps: { 'a.txt': 'a', 'b.txt': 'b' }, empty: {} },
      config: {
        packages: { maps: { dir: 'assets/maps' }, ghost: { dir: 'assets/ghost' }, empty: { dir: 'assets/empty' } },
      },
    });
    succeeded(await project.run(['publish', 'maps', '--json']));
    await project.write('maps', { 'b.txt': 'b, changed' });
    store = await snapshotTree(project.store);
    expect(Object.keys(store)).toContain('channels/production/index.json');
  });

  describe('config', () => {
    const withConfig = async (body: string, run: () => Promise<unknown>) => {
      await rename(project.configPath, `${project.configPath}.good`);
      await writeFile(project.configPath, body);
      try {
        await run();
      } finally {
        await rename(`${project.configPath}.good`, project.configPath);
      }
    };

    it('reports every invalid field by its path in one line', async () => {
      const config = { store: './releases', channel: 'Prod Channel', deltas: -1, packages: { maps: { dir: 'assets/maps', bogus: true } }, extra: 1 };
      await withConfig(JSON.stringify(config), async () => {
        const result = await attempt(['publish'], /^error: invalid config .*update-publish\.config\.json: /);
        for (const path of ['channel', 'deltas', 'packages.maps', '(root)']) expect(result.stderr).toContain(`${path}: `);
      });
    });

    it('reports a config that is not valid JSON, with the line and the reason', async () => {
      await withConfig('{ "packages": ', () => attempt(['publish'], /cannot read the config .*update-publish\.config\.json: Unexpected end of JSON input; fix its syntax$/m));
      await withConfig('{"store": "./releases"\n"packages": {}}', () =>
        attempt(['publish'], /cannot read the config .*update-publish\.config\.json, line 2: Expected ',' or '}' after property value; fix its syntax$/m),
      );
    });

    it('reports an empty config file as empty, not as missing', async () => {
      await withConfig('', () => attempt(['publish'], /config .*update-publish\.config\.json is empty; fill it in, or run 'update-publish init --yes --force'/));
    });

    it('names the rule a package id breaks', async () => {
      const config = { store: './releases', packages: { Maps: { dir: 'assets/maps' } } };
      await withConfig(JSON.stringify(config), () => attempt(['publish'], /packages\.Maps: package id must be lowercase letters, digits/));
    });

    it('reports a --config file that does not exist', async () => {
      await attempt(['publish', '--config', 'nowhere.json'], /config file nowhere\.json does not exist; fix --config or run 'update-publish init/);
    });

    it('reports a missing config', async () => {
      const bare = await makeProject({ configFile: false });
      expectUserError(await bare.run(['publish']), /no update-publish config found from .*; run 'update-publish init --yes' or pass --config PATH/);
      expect(await snapshotTree(bare.store)).toEqual({});
    });

    it('reports an unknown store scheme', async () => {
      await attempt(['publish', '--store', 'ftp://example.com/releases'], /store 'ftp:\/\/example\.com\/releases' has unknown scheme 'ftp:'; use a folder path or s3:\/\//);
    });

    it('verify of a store with no channel fails (a mistyped --store must not pass CI)', async () => {
      const result = await project.run(['verify', '--store', join(project.dir, 'typo-releases')]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toMatch(/^error: nothing to verify: no channel in .*typo-releases; check --store/);
    });

    it('names the fix when the store path is a file, not a folder', async () => {
      const file = join(project.dir, 'not-a-folder');
      await writeFile(file, 'x');
      const result = await project.run(['publish', 'maps', '--store', file]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^error: store folder .*not-a-folder: ENOTDIR at .*; a file stands where the store needs a folder; point --store/);
      expect(result.stderr).not.toMatch(/a bug in update-publish/);
    });

    it.each(['s3:/bucket/prefix', 's3:bucket', 'S3://bucket/prefix', 's3//bucket/prefix'])('refuses the mistyped S3 URL %s instead of publishing to a local folder', async (url) => {
      await attempt(['publish', '--store', url], /is not an S3 URL; write s3:\/\/bucket\/prefix/);
      for (const folder of ['s3', 's3:', 'S3:']) expect(existsSync(join(project.dir, folder))).toBe(false);
    });
  });

  describe('packages', () => {
    it.each(['releases', 'releases/packages'])('pack refuses --out %s, inside the folder store (publish would take it for an unfinished run)', async (out) => {
      await attempt(['pack', 'maps', '--out', out], new RegExp(`--out ${out} is inside the store .*releases; pack into another folder, or run 'update-publish publish'`));
    });

    it('reports an unknown package', async () => {
      await attempt(['publish', 'nope'], /unknown package 'nope'; configured packages: maps, ghost, empty/);
    });

    it('reports a missing package folder, even when other packages are fine', async () => {
      await attempt(['publish', 'ghost'], /package 'ghost': folder .*assets\/ghost does not exist; create it or fix packages\.ghost\.dir/);
      await attempt(['publish'], /package 'ghost': folder .* does not exist/, { afterProgress: true });
    });

    it('reports an empty package folder', async () => {
      await attempt(['publish', 'empty'], /package 'empty': no files in .* match include\/exclude/);
    });
  });

  describe('file names', () => {
    const withFiles = async (create: () => Promise<void>, paths: string[], run: () => Promise<unknown>) => {
      await create();
      try {
        await run();
      } finally {
        for (const path of paths) await rm(path, { recursive: true, force: true });
      }
    };

    it('refuses a file name that is not valid UTF-8, naming it (it was dropped as "no files match")', async () => {
      const path = join(Buffer.from(project.packageDir('maps')).toString(), 'caf');
      const name = Buffer.concat([Buffer.from(path), Buffer.from([0xe9]), Buffer.from('.txt')]);
      await withFiles(
        () => writeFile(name, 'x'),
        [],
        () => attempt(['publish', 'maps'], /package 'maps': the file name 'caf\\xe9\.txt' is not valid UTF-8, which devices and zip tools need; rename it/),
      ).finally(() => rm(name, { force: true }));
    });

    it('refuses a file name that is not valid UTF-8 in a sub-folder too, even when it is the only file', async () => {
      const folder = join(project.dir, 'assets', 'latin1');
      await mkdir(folder, { recursive: true });
      const name = Buffer.concat([Buffer.from(join(folder, 'sub')), Buffer.from('/'), Buffer.from([0x66, 0xfc, 0x72])]);
      await mkdir(join(folder, 'sub'));
      try {
        await writeFile(name, 'x');
        const scanned = await scanPackage('latin1', { dir: folder, include: ['**/*'], exclude: [] }, project.dir);
        expect.unreachable(`scanned ${scanned.length} files`);
      } catch (error) {
        expect((error as Error).message).toMatch(/the file name 'sub\/f\\xfcr' is not valid UTF-8/);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    });

    it('warns about a dangling symbolic link and a FIFO, naming them, instead of leaving them out without a word', async () => {
      const link = join(project.packageDir('maps'), 'dangling.txt');
      const fifo = join(project.packageDir('maps'), 'pipe');
      await symlink(join(project.dir, 'nowhere.txt'), link);
      spawnSync('mkfifo', [fifo]);
      try {
        const result = await project.run(['diff', 'maps']);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toContain("warning: package 'maps': \"dangling.txt\" is a symbolic link to something that does not exist; it is left out");
        if (existsSync(fifo)) expect(result.stderr).toContain("warning: package 'maps': \"pipe\" is a FIFO (named pipe), not a file; it is left out");
      } finally {
        await rm(link, { force: true });
        await rm(fifo, { force: true });
      }
    });

    it('refuses a symlink to a file outside the package folder', async () => {
      const outside = join(project.dir, 'secret.txt');
      const link = join(project.packageDir('maps'), 'link.txt');
      await withFiles(
        async () => {
          await writeFile(outside, 'not for devices');
          await symlink(outside, link);
        },
        [link, outside],
        () => attempt(['publish', 'maps'], /package 'maps': 'link\.txt' is a symlink to .*secret\.txt, outside the package folder; copy the file in instead/),
      );
    });

    it('refuses a symlinked folder that leaves the package folder', async () => {
      const outside = join(project.dir, 'elsewhere');
      const link = join(project.packageDir('maps'), 'linked');
      await withFiles(
        async () => {
          await mkdir(outside);
          await writeFile(join(outside, 'x.txt'), 'x');
          await symlink(outside, link);
        },
        [link, outside],
        () => attempt(['publish', 'maps'], /'linked\/x\.txt' is a symlink to .*, outside the package folder/),
      );
    });

    it('refuses a folder symlink that loops back up the tree, rather than packing it 40 levels deep', async () => {
      const folder = join(project.packageDir('maps'), 'sub');
      await withFiles(
        async () => {
          await mkdir(folder);
          await symlink('..', join(folder, 'up'));
        },
        [folder],
        () => attempt(['publish', 'maps'], /package 'maps': folder 'sub\/up' is a symlink loop back to '\.'; remove the link/),
      );
    });

    it('accepts a symlink that stays inside the package folder', async () => {
      const link = join(project.packageDir('maps'), 'alias.txt');
      await withFiles(
        () => symlink('a.txt', link),
        [link],
        async () => {
          const diff = succeeded(await project.run(['diff', 'maps', '--json']));
          expect(diff.packages[0].added).toEqual([{ path: 'alias.txt', size: 1 }]);
        },
      );
    });

    it('refuses two paths that differ only by case', async () => {
      const paths = ['Readme.txt', 'README.txt'].map((name) => join(project.packageDir('maps'), name));
      await withFiles(
        async () => {
          for (const path of paths) await writeFile(path, path);
        },
        paths,
        () => attempt(['publish', 'maps'], /'(Readme|README)\.txt' and '(Readme|README)\.txt' differ only by case .*; rename one/),
      );
    });

    it('refuses two paths that differ only by Unicode form', async () => {
      const paths = ['caf\u00e9.txt', 'cafe\u0301.txt'].map((name) => join(project.packageDir('maps'), name));
      await withFiles(
        async () => {
          for (const path of paths) await writeFile(path, 'coffee');
        },
        paths,
        () => attempt(['publish', 'maps'], /differ only by case or Unicode form/),
      );
    });

    it.each([
      ['a bell', 'ring\u0007.txt'],
      ['a newline', 'two\nlines.txt'],
      ['a tab', 'tab\there.txt'],
      ['a C1 control, NEL', 'next\u0085line.txt'],
    ])('refuses a file name with a control character (%s)', async (_, name) => {
      const path = join(project.packageDir('maps'), name);
      await withFiles(
        () => writeFile(path, 'x'),
        [path],
        () => attempt(['publish', 'maps'], /package 'maps': file name ".*" cannot be installed on devices: it contains a control character; rename it/),
      );
    });

    it('refuses a file named as the install state devices keep', async () => {
      const path = join(project.packageDir('maps'), '.update-publish.json');
      await withFiles(
        () => writeFile(path, '{}'),
        [path],
        () => attempt(['publish', 'maps'], /package 'maps': \.update-publish\.json is the file devices keep their install state in; rename it or add it to packages\.maps\.exclude/),
      );
    });

    it.each([
      ['a colon (zip tools strip "12:" as a drive)', '12:30 notes.txt'],
      ['a backslash (zip tools make it a folder)', 'back\\slash.txt'],
    ])('refuses a file name with %s', async (_, name) => {
      const path = join(project.packageDir('maps'), name);
      await withFiles(
        () => writeFile(path, 'x'),
        [path],
        () => attempt(['publish', 'maps'], /package 'maps': file name ".*" has a '\\' or ':', which zip tools and devices read as a folder or drive; rename it/),
      );
    });
  });

  describe('versions and rules', () => {
    it.each([
      ['--version', ['--version', '1.2'], /--version '1\.2' is not valid semver; use e\.g\. 1\.2\.3/],
      ['--bump', ['--bump', 'huge'], /--bump 'huge' is not one of patch, minor, major, prerelease/],
      ['--version with --bump', ['--version', '3.0.0', '--bump', 'minor'], /--version 3\.0\.0 and --bump minor both choose the version; give one/],
      ['--rollout above 100', ['--rollout', '101'], /rollout '101' is outside 0–100/],
      ['--rollout below 0', ['--rollout=-5'], /rollout '-5' is outside 0–100/],
      ['--rollout not a number', ['--rollout', 'half'], /rollout 'half' is outside 0–100/],
      ['--app-version', ['--app-version', 'banana'], /--app-version 'banana' is not a valid semver range; use e\.g\./],
      ['--starts-at', ['--starts-at', 'tomorrow'], /--starts-at 'tomorrow' is not an ISO-8601 date; use e\.g\./],
      ['--ends-at', ['--ends-at', '2026-02-30T00:00:00Z'], /--ends-at '2026-02-30T00:00:00Z' is not an ISO-8601 date/],
      [
        'reversed dates',
        ['--starts-at', '2026-03-01T00:00:00Z', '--ends-at', '2026-02-01T00:00:00Z'],
        /--ends-at 2026-02-01T00:00:00\.000Z is not after --starts-at 2026-03-01T00:00:00\.000Z; swap or fix the dates/,
      ],
      ['--channel', ['--channel', 'Not Valid'], /channel 'Not Valid' is not a valid name/],
      ['--rollout in hex', ['--rollout', '0x10'], /rollout '0x10' is outside 0–100 or not a plain number with at most two decimals/],
      ['--rollout with an exponent', ['--rollout', '1e1'], /rollout '1e1' is outside 0–100 or not a plain number/],
      ['--rollout with three decimals', ['--rollout', '12.345'], /rollout '12\.345' is outside 0–100 or not a plain number/],
      ['--starts-at without offset', ['--starts-at', '2026-01-01T00:00:00'], /--starts-at '2026-01-01T00:00:00' has no UTC offset; add Z or ±hh:mm, e\.g\. 2026-01-01T00:00:00Z/],
      ['--ends-at without offset', ['--ends-at', '2026-01-01T10:00'], /--ends-at '2026-01-01T10:00' has no UTC offset/],
      ['empty --app-version (matches every device)', ['--app-version', ''], /--app-version '' matches every app version/],
      ['empty --platform', ['--platform', ''], /--platform '' names nothing/],
      ['a duplicate --platform', ['--platform', 'ios,android,ios'], /--platform gives 'ios' twice/],
      ['--attr with an empty value', ['--attr', 'region='], /--attr 'region=' has no value/],
      ['--ends-at in the past (never served)', ['--ends-at', '2020-01-01T00:00:00Z'], /--ends-at 2020-01-01T00:00:00\.000Z is in the past: the release would never be served/],
    ])('refuses an invalid %s', async (_, args, message) => {
      await attempt(['publish', 'maps', ...args], message);
    });

    it('resolve refuses a --now the calendar lacks, rather than rolling it over', async () => {
      await attempt(
        ['resolve', '--package', 'maps', '--device-id', 'd', '--now', '2026-02-30T00:00:00Z'],
        /--now '2026-02-30T00:00:00Z' is not an ISO-8601 date/,
      );
    });

    it.each([
      ['an invalid whitelist name', 'QA Team,../x', /whitelist name 'QA Team' is not valid/],
      ['a whitelist not in the store', 'nosuch', /unknown whitelist 'nosuch'; upload it with 'update-publish whitelist upload'/],
    ])('publish refuses %s before writing anything', async (_, whitelist, message) => {
      await attempt(['publish', 'maps', '--rollout', '0', '--whitelist', whitelist], message);
    });

    it.each([
      ['resolve --app-version v2.0.0', ['resolve', '--package', 'maps', '--device-id', 'd', '--app-version', 'v2.0.0'], /--app-version 'v2\.0\.0' is not a SemVer 2\.0\.0 version/],
      ['resolve --app-version " 2.0.0"', ['resolve', '--package', 'maps', '--device-id', 'd', '--app-version', ' 2.0.0'], /--app-version ' 2\.0\.0' is not a SemVer 2\.0\.0 version/],
      ['resolve --installed v1.0.0', ['resolve', '--package', 'maps', '--device-id', 'd', '--installed', 'v1.0.0'], /--installed 'v1\.0\.0' is not a SemVer 2\.0\.0 version/],
      ['fetch --app-version v2.0.0', ['fetch', 'maps', '--into', 'device', '--app-version', 'v2.0.0'], /--app-version 'v2\.0\.0' is not a SemVer 2\.0\.0 version/],
      ['switch resolve --app-version v2.0.0', ['switch', 'resolve', '--device-id', 'd', '--app-version', 'v2.0.0'], /--app-version 'v2\.0\.0' is not a SemVer 2\.0\.0 version/],
    ])('%s is refused: device versions are exactly SemVer 2.0.0 (PROTOCOL.md §1.1), never read leniently', async (_, args, message) => {
      await attempt(args, message);
    });

    it('resolve refuses a --now without a UTC offset, rather than reading it as local time', async () => {
      await attempt(['resolve', '--package', 'maps', '--device-id', 'd', '--now', '2026-01-01T00:00:00'], /--now '2026-01-01T00:00:00' has no UTC offset/);
    });

    it.each([
      ['status', ['status', '--channel', 'nochan']],
      ['resolve', ['resolve', '--package', 'maps', '--channel', 'nochan']],
    ])('%s refuses a channel the store does not have', async (_, args) => {
      await attempt(args, /unknown channel 'nochan' in .*; channels: production; create it with 'update-publish channel create nochan'/);
    });

    it('refuses a version that is not above the highest stored version', async () => {
      await attempt(['publish', 'maps', '--version', '1.0.0'], /package 'maps': --version 1\.0\.0 must be greater than 1\.0\.0, the highest version in the store/, {
        afterProgress: true,
      });
    });
  });

  describe('rendering', () => {
    it.each([
      ['an unknown option', ['status', '--bogus'], "unknown option '--bogus'"],
      ['a missing argument', ['rollout', 'maps'], "missing required argument 'percent'"],
      ['a missing required option', ['resolve'], "required option '--package <id>' not specified"],
      ['a missing required option of fetch', ['fetch', 'maps'], "required option '--into <dir>' not specified"],
      ['no command', [], 'give a command; see --help'],
    ])('prints a usage error for %s as one JSON document with --json', async (_, args, message) => {
      const result = await project.run([...args, '--json']);
      expect(result.code).toBe(2);
      expect(result.json).toEqual({ error: { message, exitCode: 2 } });
      expect(result.stderr).toBe(`error: ${message}\n`);
    });

    it('prints the stack trace only with --debug', async () => {
      const result = await project.run(['publish', 'maps', '--rollout', '101', '--debug']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^error: rollout '101' is outside 0–100/);
      expect(result.stderr).toMatch(/^ {4}at /m);
    });

    it('prints the error as one JSON document on stdout with --json', async () => {
      const result = await project.run(['publish', 'maps', '--rollout', '101', '--json']);
      expect(result.code).toBe(2);
      expect(result.json).toEqual({ error: { message: expect.stringMatching(/^rollout '101' is outside 0–100/), exitCode: 2 } });
      expect(result.stderr).toMatch(/^error: rollout '101'[^\n]*\n$/);
    });
  });
});

describe('file-system errors: one line naming the path and the cause, exit 1, never "a bug"', () => {
  const fails = (result: CliResult, message: RegExp) => {
    expect(result.code, result.stderr).toBe(1);
    const errors = result.stderr.trimEnd().split('\n').filter((line) => line.startsWith('error:'));
    expect(errors, result.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(message);
    expect(result.stderr).not.toMatch(/a bug in update-publish|^ {4}at /m);
  };

  it('pack --out, keys generate --out and fetch --into where a file stands', async () => {
    const project = await makeProject();
    succeeded(await project.run(['publish', '--yes']));
    const file = join(project.dir, 'a-file');
    await writeFile(file, 'not a folder');
    fails(await project.run(['pack', '--out', 'a-file']), new RegExp(`cannot create folder ${file}: a file stands where a folder is needed \\(ENOTDIR\\)`));
    fails(await project.run(['keys', 'generate', '--out', 'a-file']), new RegExp(`cannot create folder ${file}: a file stands where a folder is needed`));
    fails(await project.run(['fetch', 'maps', '--into', 'a-file/maps']), new RegExp(`cannot create folder ${file}: a file stands where a folder is needed`));
  });

  it.skipIf(!existsSync('/proc/self'))('publish and whitelist upload to a store folder that cannot be created (Node\'s recursive mkdir would loop forever)', async () => {
    const project = await makeProject();
    await writeFile(join(project.dir, 'ids.txt'), 'device-1\n');
    fails(await project.run(['publish', '--yes', '--store', '/proc/no-such-store']), /store folder \/proc\/no-such-store: ENOENT at \/proc\/no-such-store; the folder cannot be created there/);
    fails(await project.run(['whitelist', 'upload', 'qa', 'ids.txt', '--store', '/proc/no-such-store']), /store folder \/proc\/no-such-store: ENOENT/);
  });
});
