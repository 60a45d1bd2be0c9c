import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';

afterAll(removeProjects);

/** Spawning the CLI takes seconds on a busy 2-core machine. */
const SLOW = 240_000;
const json = async (project: Project, args: string[]) => succeeded(await project.run([...args, '--json']));

describe('release rules as devices see them (CLI resolve)', () => {
  /**
   * maps 1.0.0 (all); 1.0.1 mandatory; 1.0.2 for ios apps >=2.0.0 in region eu;
   * 1.0.3 from 2030 on.
   */
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({ packages: { maps: { 'a.txt': 'v0' } } });
    const release = async (content: string, rules: string[]) => {
      await project.write('maps', { 'a.txt': content });
      succeeded(await project.run(['publish', '--yes', '--json', ...rules]));
    };
    await release('v0', []);
    await release('v1', ['--mandatory']);
    await release('v2', ['--platform', 'ios', '--app-version', '>=2.0.0', '--attr', 'region=eu']);
    await release('v3', ['--starts-at', '2030-01-01T00:00:00Z']);
  }, SLOW);

  const resolve = (flags: string[]) =>
    json(project, ['resolve', '--package', 'maps', '--device-id', 'device-1', '--now', '2027-01-01T00:00:00Z', ...flags]);

  it(
    'falls back to the newest older release a filter matches, skips releases outside their time window',
    async () => {
      const ios = ['--platform', 'ios', '--app-version', '2.1.0', '--attr', 'region=eu'];
      expect(await resolve([...ios, '--installed', '1.0.0'])).toMatchObject({ update: true, version: '1.0.2', mandatory: true });
      expect(await resolve(['--platform', 'android', '--app-version', '2.1.0', '--attr', 'region=eu'])).toMatchObject({ version: '1.0.1' });
      expect(await resolve(['--platform', 'ios', '--app-version', '1.5.0', '--attr', 'region=eu'])).toMatchObject({ version: '1.0.1' });
      expect(await resolve(['--platform', 'ios', '--app-version', '2.1.0', '--attr', 'region=us'])).toMatchObject({ version: '1.0.1' });
      expect(await resolve(['--platform', 'android', '--now', '2030-06-01T00:00:00Z'])).toMatchObject({ version: '1.0.3' });
    },
    SLOW,
  );

  it(
    'reports mandatory, also to a device that skipped a mandatory release',
    async () => {
      expect(await resolve(['--platform', 'android', '--installed', '1.0.0'])).toMatchObject({ version: '1.0.1', mandatory: true });
      expect(await resolve(['--platform', 'android', '--installed', '1.0.0', '--now', '2030-06-01T00:00:00Z'])).toMatchObject({
        version: '1.0.3',
        mandatory: true,
      });
      expect(await resolve(['--platform', 'android', '--installed', '1.0.1', '--now', '2030-06-01T00:00:00Z'])).toMatchObject({
        version: '1.0.3',
        mandatory: false,
      });
    },
    SLOW,
  );
});
