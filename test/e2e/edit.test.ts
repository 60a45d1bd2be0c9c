/**
 * Live releases can be edited (`edit`), and releases carry notes
 * (`--message`) and the git commit they were published from, shown by
 * status, history and --json.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { closeTerminals, openTerminal, tmuxInstalled } from '../helpers/terminal.js';

afterAll(async () => {
  await closeTerminals();
  await removeProjects();
});

const INDEX = 'channels/production/index.json';

/** A project that is a git work tree with one commit; returns the commit. */
function commitAll(project: Project): string {
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...args], { cwd: project.dir, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'content');
  return git('rev-parse', 'HEAD');
}

describe('--message and the git commit', () => {
  it('publish records both on the release; status, history and --json show them', async () => {
    const project = await makeProject();
    const commit = commitAll(project);
    const published = succeeded(await project.run(['publish', '--yes', '--json', '--message', 'New tiles for Paris']));
    expect(published.packages[0]).toMatchObject({ version: '1.0.0', message: 'New tiles for Paris', commit });
    expect((await project.readStoreJson(INDEX)).packages.maps.releases[0]).toMatchObject({ message: 'New tiles for Paris', commit });

    const status = succeeded(await project.run(['status', '--json']));
    expect(status.channels[0].packages[0].releases[0]).toMatchObject({ message: 'New tiles for Paris', commit });
    expect((await project.run(['status'])).stdout).toContain(`New tiles for Paris (${commit.slice(0, 7)})`);

    const history = succeeded(await project.run(['history', 'maps', '--json']));
    expect(history.entries[0]).toMatchObject({ action: 'publish', details: { message: 'New tiles for Paris', commit } });
    expect((await project.run(['history', 'maps'])).stdout).toContain('New tiles for Paris');
  });

  it('outside a git work tree no commit is recorded; promote --message gives the promoted release its own notes', async () => {
    const project = await makeProject({ config: { channels: ['staging'] } });
    succeeded(await project.run(['publish', '--yes', '--message', 'first']));
    expect((await project.readStoreJson(INDEX)).packages.maps.releases[0].commit).toBeUndefined();
    const promoted = succeeded(await project.run(['promote', 'maps', '--from', 'production', '--to', 'staging', '--message', 'on staging', '--yes', '--json']));
    expect(promoted).toMatchObject({ version: '1.0.0', message: 'on staging', commit: null });
    expect((await project.readStoreJson('channels/staging/index.json')).packages.maps.releases[0].message).toBe('on staging');
    expect((await project.run(['publish', '--message', '  ', '--yes'])).stderr).toMatch(/--message is empty/);
  });
});

describe('edit', () => {
  const hookLog = 'hook-events.log';
  const project = () =>
    makeProject({ config: { hooks: [{ type: 'command', name: 'log', run: `echo "$UP_EVENT $UP_VERSION $UP_MANDATORY" >> ${hookLog}` }] } });

  it('changes the targeting and notes of the current release, with history and hooks; fields not given stay', async () => {
    const edited = await project();
    succeeded(await edited.run(['publish', '--yes', '--platform', 'ios,android', '--rollout', '50']));
    const result = succeeded(await edited.run(['edit', 'maps', '--mandatory', '--app-version', '>=2.0.0', '--message', 'fixes the crash', '--yes', '--json']));
    expect(result).toEqual({
      channel: 'production',
      package: 'maps',
      version: '1.0.0',
      previous: { rules: { rollout: 50, rolloutBasisPoints: 5000, mandatory: false, platforms: ['ios', 'android'] }, message: null },
      current: { rules: { rollout: 50, rolloutBasisPoints: 5000, mandatory: true, platforms: ['ios', 'android'], appVersion: '>=2.0.0' }, message: 'fixes the crash' },
      changed: true,
      dryRun: false,
      hooks: [expect.objectContaining({ name: 'log', event: 'edit', status: 'ok' })],
    });
    expect((await edited.readStoreJson(INDEX)).packages.maps.releases[0]).toMatchObject({
      rules: { rollout: 50, mandatory: true, platforms: ['ios', 'android'], appVersion: '>=2.0.0' },
      message: 'fixes the crash',
    });
    expect(await readFile(join(edited.dir, hookLog), 'utf8')).toContain('edit 1.0.0 true');
    const history = succeeded(await edited.run(['history', 'maps', '--json']));
    expect(history.entries[0]).toMatchObject({ action: 'edit', version: '1.0.0', details: { current: { message: 'fixes the crash' } } });

    // --no-mandatory undoes it; the same edit again changes nothing and exits 0.
    expect(succeeded(await edited.run(['edit', 'maps', '--no-mandatory', '--yes', '--json'])).current.rules.mandatory).toBe(false);
    const before = await snapshotTree(edited.store);
    const again = await edited.run(['edit', 'maps', '--no-mandatory', '--yes', '--json']);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ changed: false, unchanged: expect.stringContaining('nothing to change') });
    expect(await snapshotTree(edited.store)).toEqual(before);
  });

  it('edits a named older release; a dry run writes nothing; bad input is refused before anything is written', async () => {
    const edited = await project();
    succeeded(await edited.run(['publish', '--yes', '--rollout', '50']));
    await edited.write('maps', { 'b.txt': 'b' });
    succeeded(await edited.run(['publish', '--yes', '--rollout', '10']));
    expect(succeeded(await edited.run(['edit', 'maps@1.0.0', '--platform', 'android', '--yes', '--json'])).version).toBe('1.0.0');
    const releases = (await edited.readStoreJson(INDEX)).packages.maps.releases;
    expect(releases.map((release: { version: string; rules: { platforms?: string[] } }) => [release.version, release.rules.platforms])).toEqual([
      ['1.0.1', undefined],
      ['1.0.0', ['android']],
    ]);

    const before = await snapshotTree(edited.store);
    const dryRun = succeeded(await edited.run(['edit', 'maps', '--mandatory', '--dry-run', '--json']));
    expect(dryRun).toMatchObject({ version: '1.0.1', dryRun: true, current: { rules: { mandatory: true } } });
    for (const [args, message] of [
      [['edit', 'maps'], /edit needs something to change/],
      [['edit', 'maps', '--platform', ''], /--platform '' names nothing/],
      [['edit', 'maps', '--whitelist', 'ghosts'], /unknown whitelist 'ghosts'/],
      [['edit', 'maps@9.9.9', '--mandatory'], /has no version 9\.9\.9/],
      [['edit', 'maps', '--starts-at', '2030-01-01T00:00:00Z', '--ends-at', '2029-01-01T00:00:00Z'], /is not after --starts-at/],
    ] as [string[], RegExp][]) {
      const result = await edited.run([...args, '--yes']);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(await snapshotTree(edited.store)).toEqual(before);
    // Only the one real edit ran the hooks: not the dry run, not a refused edit.
    expect((await readFile(join(edited.dir, hookLog), 'utf8')).match(/^edit /gm)).toHaveLength(1);
  });

  it.skipIf(!tmuxInstalled)('asks at a terminal, showing the change; "no" writes nothing (exit 5)', async () => {
    const edited = await project();
    succeeded(await edited.run(['publish', '--yes']));
    const before = await snapshotTree(edited.store);
    const terminal = await openTerminal(['edit', 'maps', '--mandatory'], { cwd: edited.dir });
    await terminal.waitFor("Edit maps 1.0.0 on 'production': rollout 100% → rollout 100%; mandatory?");
    await terminal.keys('n', 'Enter');
    expect(await terminal.exitCode()).toBe(5);
    expect(await snapshotTree(edited.store)).toEqual(before);
  });
});
