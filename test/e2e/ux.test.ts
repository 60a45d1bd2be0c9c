/**
 * Operator experience end to end against the built CLI: colour rules, one
 * JSON document per command, and every documented exit code produced by a
 * real scenario.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, makeProject, removeProjects, sha256, type Project } from '../helpers/cli.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { closeTerminals, openTerminal, tmuxInstalled } from '../helpers/terminal.js';

if (!tmuxInstalled && process.env.CI === 'true') throw new Error('tmux is required under CI (apt-get install tmux): prompts are tested at a real terminal');

const ESCAPE = '\x1b[';
/** Every command the CLI registers, read from its --help (so new commands are covered without editing). */
const help = spawnSync(process.execPath, [CLI_PATH, '--help'], { encoding: 'utf8' });
if (!help.stdout.includes('Commands:')) throw new Error(`cannot list the CLI's commands (build first: npm run build):\n${help.stderr}`);
const COMMANDS = [...help.stdout.split('Commands:')[1].matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]).filter((name) => name !== 'help');

afterAll(async () => {
  await closeTerminals();
  await removeProjects();
});

describe('colour', () => {
  const hasEscapes = (result: { stdout: string; stderr: string }) => (result.stdout + result.stderr).includes(ESCAPE);
  const runAll = async (env: Record<string, string | undefined>) => {
    const project = await makeProject();
    return [
      await project.run(['diff'], { env }),
      await project.run(['publish', '--yes'], { env }),
      await project.run(['status'], { env }),
    ];
  };

  it.each([
    ['NO_COLOR=1', { NO_COLOR: '1' }],
    ['CI=true', { NO_COLOR: undefined, CI: 'true' }],
    ['no terminal', { NO_COLOR: undefined, CI: undefined }],
  ])('%s: no escape codes in publish, status or diff', async (_name, env) => {
    for (const result of await runAll(env)) {
      expect(result.code, result.stderr).toBe(0);
      expect(hasEscapes(result), result.stderr).toBe(false);
    }
  });

  it('FORCE_COLOR=1 colours the logs even without a terminal', async () => {
    const [, published] = await runAll({ NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(published.stderr).toContain(ESCAPE);
  });
});

describe('--quiet', () => {
  it('drops progress lines but still prints the result of publish, status, rollout and resolve', async () => {
    const project = await makeProject();
    const quiet = async (args: string[]) => {
      const result = await project.run([...args, '--quiet']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      return result.stdout;
    };
    expect(await quiet(['publish', '--yes'])).toMatch(/maps +published +1\.0\.0/);
    expect(await quiet(['status'])).toMatch(/channel production\n/);
    expect(await quiet(['rollout', 'maps', '50', '--yes'])).toMatch(/maps 1\.0\.0 on production: active, rollout 100% → active, rollout 50%/);
    expect(await quiet(['resolve', '--package', 'maps', '--device-id', 'd1'])).toMatch(/^maps: /);
  });
});

describe.skipIf(spawnSync('script', ['--version']).status !== 0)('a terminal reporting 0 columns', () => {
  it('gets plain progress lines instead of a spinner that redraws forever', async () => {
    const project = await makeProject();
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    // timeout: without the fallback the CLI would spin on after the test gave up.
    const command = `stty cols 0; timeout -s KILL 20 ${[process.execPath, CLI_PATH, 'publish', '--dry-run'].map(quote).join(' ')}`;
    const env = { ...process.env };
    for (const name of ['CI', 'NO_COLOR', 'FORCE_COLOR']) delete env[name];
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: project.dir, env, encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stdout.slice(0, 500)).toBe(0);
    expect(run.stdout).not.toContain(`${ESCAPE}1A`);
    expect(run.stdout).toMatch(/maps: packed 1\.0\.0/);
  });
});

describe('--json', () => {
  /**
   * Minimal valid arguments, run in this order (the order of --help) in a
   * project that has published 1.0.0 and has new content for 1.0.1.
   */
  const ARGS: Record<string, string[]> = {
    init: ['init', '--yes', '--config', 'elsewhere/update-publish.config.json'],
    pack: ['pack'],
    diff: ['diff'],
    publish: ['publish', '--yes'],
    status: ['status'],
    resolve: ['resolve', '--package', 'maps', '--device-id', 'device-1'],
    gc: ['gc'],
    rollout: ['rollout', 'maps', '50', '--yes'],
    halt: ['halt', 'maps', '--yes'],
    resume: ['resume', 'maps', '--yes'],
    rollback: ['rollback', 'maps', '--yes'],
    promote: ['promote', 'maps@1.0.0', '--from', 'production', '--to', 'staging', '--yes'],
    history: ['history', 'maps'],
    hooks: ['hooks', 'run', 'maps'],
    whitelist: ['whitelist', 'ls'],
    switch: ['switch', 'set', 'newCheckout', 'true', '--yes'],
    'app-release': ['app-release', 'add', '--platform', 'ios', '--version', '3.2.0', '--url', 'https://apps.apple.com/app/id1', '--yes'],
    fetch: ['fetch', 'maps', '--into', 'device/maps'],
    verify: ['verify'],
    keys: ['keys', 'generate', '--out', 'new-keys'],
  };

  let project: Project;
  beforeAll(async () => {
    project = await makeProject({ config: { channels: ['staging'] } });
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
    await project.write('maps', { 'b.txt': 'b' });
  });

  /** Commands that run until stopped: their document comes when they start; Ctrl-C ends them (exit 130, nothing more on stdout). */
  const UNTIL_STOPPED: Record<string, string[]> = {
    serve: ['serve', '--port', '0'],
    console: ['console', '--port', '0', '--no-open'],
  };

  /** Runs a command that serves until stopped, stops it with Ctrl-C once its JSON document is out. */
  async function runUntilStopped(args: string[]) {
    const running = spawnCli([...args, '--json'], { cwd: project.dir });
    let stdout = '';
    await new Promise<void>((resolve) => {
      running.child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        try {
          JSON.parse(stdout);
          resolve();
        } catch {
          // not the whole document yet
        }
      });
      void running.done.then(() => resolve());
    });
    running.child.kill('SIGINT');
    const done = await running.done;
    let json: any;
    try {
      json = JSON.parse(done.stdout);
    } catch {
      json = undefined;
    }
    return { ...done, json };
  }

  it('finds every command of the table in --help', () => {
    expect(COMMANDS).toEqual(expect.arrayContaining([...Object.keys(ARGS), ...Object.keys(UNTIL_STOPPED)]));
  });

  it.each(Object.keys(UNTIL_STOPPED))('%s prints exactly one JSON document on stdout when it starts, and ends on Ctrl-C with exit 130', async (name) => {
    const result = await runUntilStopped(UNTIL_STOPPED[name]);
    expect(result.json, `stdout is not one JSON document:\n${result.stdout}\n${result.stderr}`).toBeDefined();
    expect(result.json).not.toHaveProperty('error');
    expect(result.code, result.stderr).toBe(130);
  });

  it.each(COMMANDS.filter((name) => !UNTIL_STOPPED[name]))('%s prints exactly one JSON document on stdout', async (name) => {
    // A command without a row still has to answer in JSON (its result, or an { error } document).
    const result = await project.run([...(ARGS[name] ?? [name]), '--json']);
    expect(result.json, `stdout is not one JSON document:\n${result.stdout}\n${result.stderr}`).toBeDefined();
    if (ARGS[name]) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.json).not.toHaveProperty('error');
    } else if (result.code !== 0) {
      expect(result.json.error).toMatchObject({ message: expect.any(String), exitCode: result.code });
    }
  });
});

describe('exit codes', () => {
  it('0: released, and again when there is nothing to publish', async () => {
    const project = await makeProject();
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
    const again = await project.run(['publish', '--yes', '--json']);
    expect(again.code).toBe(0);
    expect(again.json.packages).toMatchObject([{ id: 'maps', status: 'unchanged' }]);
  });

  it('1: a failure (a corrupt channel index), one line on stderr and an { error } document', async () => {
    const project = await makeProject();
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
    await writeFile(project.storePath('channels/production/index.json'), '{ not json');
    const result = await project.run(['status', '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.json).toEqual({ error: { message: expect.stringContaining('is not valid JSON'), exitCode: 1 } });
  });

  it('2: usage and config errors', async () => {
    const project = await makeProject({ config: { deltas: -1 } });
    const invalid = await project.run(['status']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/deltas/);
    const unknownFlag = await project.run(['publish', '--no-such-flag']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toBe("error: unknown option '--no-such-flag' (add --help for usage)\n");
    expect((await project.run(['publish', '--bump', 'huge'])).code).toBe(2);
  });

  it('4: a required hook failed after the release was written', async () => {
    const project = await makeProject({ config: { hooks: [{ type: 'command', name: 'smoke-test', run: 'exit 1' }] } });
    const result = await project.run(['publish', '--yes', '--json']);
    expect(result.code).toBe(4);
    expect(result.json.hooks).toMatchObject([{ name: 'smoke-test' }]);
    const status = await project.run(['status', '--json']);
    expect(status.json.channels[0].packages[0]).toMatchObject({ id: 'maps', latest: '1.0.0' });
    // The warning names the exact command that re-runs what failed, and it does.
    const rerun = /run `update-publish (hooks run [^`]+)`/.exec(result.stderr)?.[1];
    expect(rerun).toBe('hooks run maps@1.0.0 --channel production --event publish --only smoke-test');
    const again = await project.run([...rerun!.split(' '), '--json']);
    expect(again.code).toBe(4);
    expect(again.json.hooks).toMatchObject([{ name: 'smoke-test', package: 'maps', version: '1.0.0', status: 'failed' }]);
  });

  it('4: a hook flooding its output still leaves the JSON document and the warning, and only its head and tail are shown', async () => {
    const project = await makeProject({ config: { hooks: [{ type: 'command', name: 'loud', run: 'seq 300000; exit 1' }] } });
    const result = await project.run(['publish', '--yes', '--json'], { spawn: true });
    expect(result.code).toBe(4);
    expect(result.json).toMatchObject({ packages: [{ id: 'maps', status: 'published' }], hooks: [{ name: 'loud', status: 'failed' }] });
    expect(result.stderr.length).toBeLessThan(20_000);
    expect(result.stderr).toContain('loud │ … 299800 lines not shown …');
    expect(result.stderr).toContain('loud │ 300000');
    expect(result.stderr).toMatch(/warning: a required hook failed; the change is in place/);
  });

  it('4: the advice after a failed rollout hook re-runs that hook for that event', async () => {
    const project = await makeProject({ config: { hooks: [{ type: 'command', name: 'cmd', on: ['rollout'], run: 'test "$UP_EVENT" = never' }] } });
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
    const result = await project.run(['rollout', 'maps', '50', '--yes']);
    expect(result.code).toBe(4);
    const rerun = /run `update-publish (hooks run [^`]+)`/.exec(result.stderr)?.[1];
    expect(rerun).toBe('hooks run maps@1.0.0 --channel production --event rollout --only cmd');
    const again = await project.run([...rerun!.split(' '), '--json']);
    expect(again.code, again.stderr).toBe(4);
    expect(again.json).toMatchObject({ event: 'rollout', hooks: [{ name: 'cmd', event: 'rollout', status: 'failed' }] });
    // For an event the hook does not hear, running nothing is not a success.
    const wrongEvent = await project.run(['hooks', 'run', 'maps', '--only', 'cmd']);
    expect(wrongEvent.code).toBe(2);
    expect(wrongEvent.stderr).toMatch(/no hook matching --only cmd runs on 'publish' events \(it runs on: rollout\); pass --event/);
  });

  it('0: a rollout, halt or resume that changes nothing says so and succeeds, so CI steps can repeat', async () => {
    const project = await makeProject();
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
    for (const args of [['rollout', 'maps', '100'], ['resume', 'maps']]) {
      const result = await project.run([...args, '--yes', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json).toMatchObject({ changed: false, unchanged: expect.stringContaining('nothing to change'), hooks: [] });
    }
    expect((await project.run(['halt', 'maps', '--yes'])).code).toBe(0);
    const again = await project.run(['halt', 'maps', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already halted.*nothing to change/);
  });

  it('2: resolve and fetch of a package the channel does not release, like an unknown channel', async () => {
    const project = await makeProject();
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
    const resolve = await project.run(['resolve', '--package', 'nope', '--json']);
    expect(resolve.code).toBe(2);
    expect(resolve.json.error.message).toMatch(/package 'nope' is not released on channel 'production'; released there: maps/);
    const fetch = await project.run(['fetch', 'nope', '--into', 'device/nope']);
    expect(fetch.code).toBe(2);
    expect(fetch.stderr).toMatch(/error: package 'nope' is not released on channel 'production'/);
  });

  it.skipIf(!tmuxInstalled)('5: a confirmation answered no, with nothing written', async () => {
    const project = await makeProject();
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
    const index = await readFile(project.storePath('channels/production/index.json'));
    const terminal = await openTerminal(['rollout', 'maps', '50'], { cwd: project.dir });
    await terminal.waitFor("rollout maps 1.0.0 on 'production'");
    await terminal.keys('n', 'Enter');
    expect(await terminal.exitCode()).toBe(5);
    expect(await terminal.screen()).toContain('error: cancelled; nothing was written');
    expect(await readFile(project.storePath('channels/production/index.json'))).toEqual(index);
  });

  describe.skipIf(!tmuxInstalled)('3: a conflict', () => {
    let project: Project;
    let winnerFull: string;

    beforeAll(async () => {
      project = await makeProject({ packages: { maps: { 'a.txt': 'first' } } });
      // Publisher A packs the version it asked for, then waits at the confirmation prompt…
      // (without --version it would take the next version instead: see 'simultaneous publishers').
      const slow = await openTerminal(['publish', '--version', '1.0.0'], { cwd: project.dir });
      await slow.waitFor("Publish to 'production'");
      // …while publisher B releases other content under the same version.
      await project.write('maps', { 'a.txt': 'second, longer' });
      const fast = await project.run(['publish', '--yes']);
      expect(fast.code, fast.stderr).toBe(0);
      winnerFull = (await project.readStoreJson('channels/production/index.json')).packages.maps.releases[0].full.sha256;
      await slow.keys('y', 'Enter');
      expect(await slow.exitCode()).toBe(3);
      expect(await slow.screen()).toMatch(/error: package 'maps': version 1\.0\.0 was just taken by another publisher with other content/);
    });

    it('the loser exits 3 and the index keeps the winner', async () => {
      const index = await project.readStoreJson('channels/production/index.json');
      expect(index.packages.maps.releases).toHaveLength(1);
      expect(index.packages.maps.releases[0].full.sha256).toBe(winnerFull);
    });

    // The loser must lose before writing anything: its version claim fails first.
    it("the winner's full.zip still matches the index", async () => {
      expect(sha256(await readFile(project.storePath('packages/maps/1.0.0/full.zip')))).toBe(winnerFull);
    });
  });
});
