/**
 * Conventions users look for: diff --exit-code, history --limit, shell
 * completion (the environment variables are in channels.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_PATH, makeProject, removeProjects, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

describe('diff --exit-code', () => {
  it('exits 0 when nothing changed and 1 when a package is new or changed, as git diff --exit-code', async () => {
    const project = await makeProject();
    expect((await project.run(['diff', '--exit-code'])).code).toBe(1);
    succeeded(await project.run(['publish', '--yes']));
    expect((await project.run(['diff', '--exit-code'])).code).toBe(0);
    await project.write('maps', { 'b.txt': 'b' });
    const changed = await project.run(['diff', '--exit-code', '--json']);
    expect(changed.code).toBe(1);
    expect(changed.json.packages[0].status).toBe('changed');
    expect((await project.run(['diff'])).code).toBe(0);
  });
});

describe('history --limit', () => {
  it('shows only the newest N entries', async () => {
    const project = await makeProject();
    succeeded(await project.run(['publish', '--yes']));
    succeeded(await project.run(['rollout', 'maps', '50', '--yes']));
    succeeded(await project.run(['halt', 'maps', '--yes']));
    const limited = succeeded(await project.run(['history', 'maps', '--limit', '2', '--json']));
    expect(limited.entries.map((entry: { action: string }) => entry.action)).toEqual(['halt', 'rollout']);
    expect((await project.run(['history', 'maps', '--limit', '0'])).stderr).toMatch(/--limit '0' is not a positive whole number/);
  });
});

describe('completion', () => {
  const script = (shell: string) => spawnSync(process.execPath, [CLI_PATH, 'completion', shell], { encoding: 'utf8' }).stdout;
  const complete = (words: string[]) =>
    spawnSync('bash', ['-c', `eval "$(cat)"; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _update_publish; echo "\${COMPREPLY[@]}"`], {
      input: script('bash'),
      encoding: 'utf8',
    }).stdout.trim();

  it('bash completes commands, subcommands and flags, skipping flag values', () => {
    expect(complete(['update-publish', 'pub'])).toBe('publish');
    expect(complete(['update-publish', 'publish', '--channel', 'staging', '--ro'])).toBe('--rollout');
    expect(complete(['update-publish', 'channel', ''])).toBe('create ls rm');
    expect(complete(['update-publish', 'diff', '--exit'])).toBe('--exit-code');
  });

  it('zsh and fish scripts name every command', () => {
    for (const shell of ['zsh', 'fish']) {
      const text = script(shell);
      for (const command of ['publish', 'edit', 'channel', 'completion', 'whitelist']) expect(text).toContain(command);
    }
    expect(script('zsh')).toContain('bashcompinit');
    expect(script('fish')).toContain("complete -c update-publish -n '__fish_seen_subcommand_from diff' -l exit-code");
    const bad = spawnSync(process.execPath, [CLI_PATH, 'completion', 'tcsh'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});
