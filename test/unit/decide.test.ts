import { describe, expect, it } from 'vitest';
import type { Manifest, ManifestFile } from '../../src/protocol/types.js';
import { UserError } from '../../src/errors.js';
import { contentSha256 } from '../../src/protocol/manifest.js';
import { decidePackage, type PackageFacts } from '../../src/release/decide.js';
import { release, storedManifest } from '../helpers/releases.js';

const filesOf = (content: string): ManifestFile[] => [{ path: 'a.txt', size: content.length, sha256: content }];
const stored = (version: string, content: string, deltasFrom: string[] = []): Manifest => storedManifest(version, filesOf(content), deltasFrom);

const facts = (overrides: Partial<PackageFacts> & { content: string }): PackageFacts => ({
  id: 'maps',
  channel: 'production',
  contentSha256: contentSha256(filesOf(overrides.content)),
  channelReleases: [],
  storedManifests: [],
  unfinished: [],
  channelsOf: () => [],
  deltaCount: 3,
  request: {},
  ...overrides,
});

describe('decidePackage', () => {
  it('publishes a first version as 1.0.0 with no delta bases', () => {
    expect(decidePackage(facts({ content: 'v1' }))).toEqual({ kind: 'publish', version: '1.0.0', baseVersions: [] });
  });

  it("reports content equal to the channel's current release as unchanged", () => {
    const current = release('1.0.1');
    const decision = decidePackage(
      facts({ content: 'v2', channelReleases: [current, release('1.0.0')], storedManifests: [stored('1.0.0', 'v1'), stored('1.0.1', 'v2')] }),
    );
    expect(decision).toEqual({ kind: 'unchanged', release: current });
  });

  it('bumps above every stored version and bases deltas on the last N channel releases', () => {
    const versions = ['1.0.0', '1.0.1', '1.0.2', '1.0.3'];
    const decision = decidePackage(
      facts({
        content: 'new',
        channelReleases: versions.map((v) => release(v)).reverse(),
        // 2.0.0 is on another channel: the next version is above it all the same.
        storedManifests: [...versions.map((v) => stored(v, `c${v}`)), stored('2.0.0', 'other')],
        deltaCount: 2,
        request: { bump: 'minor' },
      }),
    );
    expect(decision).toEqual({ kind: 'publish', version: '2.1.0', baseVersions: ['1.0.3', '1.0.2'] });
  });

  it('bases deltas first on the releases devices still run, after a rollback across several versions', () => {
    const rolledBack = { state: 'rolled-back' as const };
    const decision = decidePackage(
      facts({
        content: 'new',
        channelReleases: [release('1.0.3', rolledBack), release('1.0.2', rolledBack), release('1.0.1', rolledBack), release('1.0.0')],
        storedManifests: ['1.0.0', '1.0.1', '1.0.2', '1.0.3'].map((v) => stored(v, `c${v}`)),
        deltaCount: 2,
      }),
    );
    expect(decision).toEqual({ kind: 'publish', version: '1.0.4', baseVersions: ['1.0.0', '1.0.3'] });
  });

  it('builds no deltas when the config asks for none', () => {
    const decision = decidePackage(facts({ content: 'new', channelReleases: [release('1.0.0')], storedManifests: [stored('1.0.0', 'old')], deltaCount: 0 }));
    expect(decision).toEqual({ kind: 'publish', version: '1.0.1', baseVersions: [] });
  });

  it('suggests promote for content already released on another channel', () => {
    const attempt = () =>
      decidePackage(facts({ content: 'v1', storedManifests: [stored('1.0.0', 'v1')], channelsOf: () => ['staging'] }));
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow("already version 1.0.0 on channel 'staging'; run 'update-publish promote maps@1.0.0 --from staging --to production' instead");
  });

  it('suggests rollback for content of an older release on the same channel', () => {
    const attempt = () =>
      decidePackage(
        facts({
          content: 'v1',
          channelReleases: [release('1.0.1'), release('1.0.0')],
          storedManifests: [stored('1.0.0', 'v1'), stored('1.0.1', 'v2')],
          channelsOf: () => ['production'],
        }),
      );
    expect(attempt).toThrow(/already released on 'production'; run 'update-publish rollback maps --to 1\.0\.0/);
  });

  it('a publisher of the same content that lost the race to the index is a conflict (exit 3), not a rollback hint', () => {
    // Our index read predates the other publisher's write; the store already says 'production' releases 1.0.1.
    const attempt = () =>
      decidePackage(
        facts({
          content: 'v2',
          channelReleases: [release('1.0.0')],
          storedManifests: [stored('1.0.0', 'v1'), stored('1.0.1', 'v2', ['1.0.0'])],
          channelsOf: () => ['production'],
        }),
      );
    expect(attempt).toThrow(expect.objectContaining({ exitCode: 3, message: expect.stringMatching(/1\.0\.1 was just released on 'production' by another publisher with the same content/) }));
  });

  it('finishes an interrupted publish under the version its manifest was stored as', () => {
    const decision = decidePackage(
      facts({
        content: 'v2',
        channelReleases: [release('1.0.0')],
        storedManifests: [stored('1.0.0', 'v1'), stored('1.0.1', 'v2', ['1.0.0'])],
      }),
    );
    expect(decision).toEqual({ kind: 'publish', version: '1.0.1', baseVersions: ['1.0.0'] });
  });
});

describe('decidePackage with versions claimed by runs that stopped early', () => {
  it('finishes an unfinished version of the same content, and skips one of other content', () => {
    const same = decidePackage(facts({ content: 'v2', storedManifests: [stored('1.0.0', 'v1')], unfinished: [{ version: '1.0.1', contentSha256: contentSha256(filesOf('v2')) }] }));
    expect(same).toMatchObject({ kind: 'publish', version: '1.0.1' });
    const other = decidePackage(facts({ content: 'v3', storedManifests: [stored('1.0.0', 'v1')], unfinished: [{ version: '1.0.1', contentSha256: contentSha256(filesOf('v2')) }] }));
    expect(other).toMatchObject({ kind: 'publish', version: '1.0.2' });
  });
});
