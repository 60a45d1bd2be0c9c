/**
 * `npm test` on a machine without moto_server fails, naming how to install it,
 * instead of skipping the S3 tests and passing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

it('a run of the integration tier without moto_server fails with the line that installs it', { timeout: 120_000 }, () => {
  // PATH without the folders holding moto_server: what a fresh machine has.
  const path = (process.env.PATH ?? '').split(delimiter).filter((dir) => !existsSync(join(dir, 'moto_server'))).join(delimiter);
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'integration', 'test/integration/prerequisites.test.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PATH: path },
    encoding: 'utf8',
  });
  expect(run.status, run.stdout + run.stderr).not.toBe(0);
  expect(run.stdout + run.stderr).toContain('pip install "moto[server]"');
});
