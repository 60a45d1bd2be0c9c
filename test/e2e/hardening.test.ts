/**
 * Issue 28 (a second attacker's trial): what the CLI prints and which files it trusts.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded } from '../helpers/cli.js';

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
