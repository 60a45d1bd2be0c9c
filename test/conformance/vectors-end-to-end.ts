/**
 * Conformance vectors for what an implementer could only learn by running
 * the CLI before revision 5 (PROTOCOL.md §17): the exact version strings a
 * device accepts, build metadata, the decision's result when nothing is
 * served, what an install folder's marker says (bases, trust with nothing
 * installed), and the order packages are tried in.
 */
import { release, indexOf, type DraftCase, type DraftFile } from './vectors-rules.js';

const NOW = '2026-05-01T00:00:00.000Z';

function versionCases(): DraftCase[] {
  const cases: DraftCase[] = [];
  const valid = (name: string, text: string, want: boolean) => cases.push({ name, check: 'device-version', text, want: { valid: want } });
  valid('a release version', '1.2.0', true);
  valid('a prerelease with build metadata', '1.2.0-rc.1+build.5', true);
  valid('build metadata alone (a build number)', '2.0.0+45', true);
  valid('a leading v is not SemVer (node-semver accepts it; devices must not)', 'v1.2.0', false);
  valid('a leading space', ' 1.2.0', false);
  valid('a trailing newline', '1.2.0\n', false);
  valid('a leading =', '=1.2.0', false);
  valid('two parts', '1.2', false);
  valid('a leading zero', '01.2.0', false);
  valid('a numeric prerelease identifier with a leading zero', '1.2.0-01', false);
  valid('an empty prerelease', '1.2.0-', false);
  valid('an empty build identifier', '1.2.0+', false);
  valid('major above 2^53 - 1', '9007199254740992.0.0', false);
  valid('major at 2^53 - 1', '9007199254740991.0.0', true);
  valid('longer than 256 characters', `1.0.0-${'a'.repeat(251)}`, false);
  valid('exactly 256 characters', `1.0.0-${'a'.repeat(250)}`, true);
  const order = (name: string, a: string, b: string, want: number) => cases.push({ name, check: 'version-order', a, b, want: { order: want } });
  order('build metadata is ignored: 1.0.0+b equals 1.0.0', '1.0.0+b', '1.0.0', 0);
  order('two builds of one version are equal', '1.0.0+1', '1.0.0+2', 0);
  order('a prerelease is below its release', '1.0.0-rc.1', '1.0.0', -1);
  order('numeric identifiers compare as numbers', '1.0.0-rc.10', '1.0.0-rc.9', 1);
  order('numeric identifiers are below alphanumeric ones', '1.0.0-1', '1.0.0-alpha', -1);
  order('a longer prerelease is above its prefix', '1.0.0-alpha.1', '1.0.0-alpha', 1);
  order('ASCII order for alphanumeric identifiers (uppercase first)', '1.0.0-Beta', '1.0.0-alpha', -1);
  order('major, minor, patch as numbers', '1.10.0', '1.9.9', 1);
  const time = (name: string, text: string, want: string | null) => cases.push({ name, check: 'time', text, want: { instant: want } });
  time('what writers write', '2026-11-24T10:00:00.000Z', '2026-11-24T10:00:00.000Z');
  time('no fraction', '2026-11-24T10:00:00Z', '2026-11-24T10:00:00.000Z');
  time('an offset with a colon', '2026-06-08T12:00:00+02:00', '2026-06-08T10:00:00.000Z');
  time('an offset without a colon', '2026-06-08T12:00:00+0200', '2026-06-08T10:00:00.000Z');
  time('a negative offset crossing midnight', '2026-06-07T23:30:00-05:30', '2026-06-08T05:00:00.000Z');
  time('lowercase t and z; digits below the millisecond are dropped (not rounded)', '2026-06-01t10:00:00.123999999z', '2026-06-01T10:00:00.123Z');
  time('a bare date is midnight UTC (rules written by hand)', '2026-06-01', '2026-06-01T00:00:00.000Z');
  time('a leap day', '2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z');
  time('no offset: refused (it would be local time)', '2026-06-01T10:00:00', null);
  time('no seconds: refused', '2026-06-01T10:00Z', null);
  time('a day that does not exist: refused', '2026-02-30T00:00:00Z', null);
  time('an hour of 24: refused', '2026-06-01T24:00:00Z', null);
  time('an offset beyond 18 hours: refused', '2026-06-01T10:00:00+19:00', null);
  time('a date Date.parse would take: refused', 'May 1 2026', null);
  time('surrounding space: refused', ' 2026-06-01T10:00:00Z', null);
  return cases;
}

function resolveCases(): { indexes: Record<string, unknown>; cases: DraftCase[] } {
  const indexes = {
    metadata: indexOf({
      maps: [
        release('maps', '1.0.3', {}, 'rolled-back', ['1.0.1']),
        release('maps', '1.0.1', { appVersion: '>=2.0.0 <3' }, 'active', ['1.0.0']),
        release('maps', '1.0.0', {}),
      ],
    }),
    patched: indexOf({ maps: [{ ...release('maps', '2.0.1', {}, 'active', ['2.0.0']), deltas: [patchedDelta('2.0.1', '2.0.0')] }, release('maps', '2.0.0', {})] }),
    nothingServed: indexOf({ maps: [release('maps', '3.0.1', { platforms: ['android'] }), release('maps', '3.0.0', {}, 'halted')] }),
  };
  const cases: DraftCase[] = [];
  const add = (name: string, index: keyof typeof indexes, device: Record<string, unknown>, want: unknown) =>
    cases.push({ name, check: 'resolve', index, device: { package: 'maps', now: NOW, deviceId: 'device-1', ...device }, want });
  const none = (reason: string, version: string | null) => ({
    update: false,
    version,
    kind: null,
    patched: false,
    key: null,
    size: null,
    sha256: null,
    manifestKey: null,
    mandatory: false,
    reason,
  });
  // Build metadata: versions are equal by SemVer precedence.
  add('installed 1.0.1+x is release 1.0.1: up to date (version is what the device keeps)', 'metadata', { installed: '1.0.1+x', appVersion: '2.1.0' }, none('up-to-date', '1.0.1+x'));
  add('installed 1.0.0+b takes the delta from 1.0.0', 'metadata', { installed: '1.0.0+b', appVersion: '2.1.0' }, { update: true, version: '1.0.1', kind: 'delta', key: 'packages/maps/1.0.1/delta-from-1.0.0.zip' });
  add('installed 1.0.3+b is the rolled-back 1.0.3: sent back', 'metadata', { installed: '1.0.3+b', appVersion: '2.1.0' }, { update: true, version: '1.0.1', kind: 'full', reason: 'rollback' });
  add('an app version with build metadata satisfies >=2.0.0 <3', 'metadata', { appVersion: '2.0.0+45' }, { update: true, version: '1.0.1' });
  add('an app version outside the range: the next release', 'metadata', { appVersion: '3.0.0' }, { update: true, version: '1.0.0' });
  // App versions: exactly SemVer 2.0.0, else an input failure (never a silent other release).
  add('app version v2.1.0 is refused (input), not read as 2.1.0', 'metadata', { appVersion: 'v2.1.0' }, { error: 'input' });
  add('app version " 2.1.0" is refused (input)', 'metadata', { appVersion: ' 2.1.0' }, { error: 'input' });
  add('app version 2.1 is refused (input)', 'metadata', { appVersion: '2.1' }, { error: 'input' });
  add('an empty app version is not sent: ranges do not match', 'metadata', { appVersion: '' }, { update: true, version: '1.0.0' });
  add('installed version v1.0.0 is refused (input)', 'metadata', { installed: 'v1.0.0', appVersion: '2.1.0' }, { error: 'input' });
  // The result when nothing is served: every member, for every reason.
  add('unknown package, nothing installed', 'metadata', { package: 'levels' }, none('unknown-package', null));
  add('unknown package, something installed: version is the installed one', 'metadata', { package: 'levels', installed: '4.0.0' }, none('unknown-package', '4.0.0'));
  add('no matching release, nothing installed', 'nothingServed', { platform: 'ios' }, none('no-matching-release', null));
  add('no matching release, 3.0.0 installed: version is the installed one', 'nothingServed', { platform: 'ios', installed: '3.0.0' }, none('no-matching-release', '3.0.0'));
  add('installed newer than the target (halted or rollout lowered): installed-newer', 'nothingServed', { platform: 'android', installed: '3.0.2' }, none('installed-newer', '3.0.2'));
  add('up to date', 'nothingServed', { platform: 'android', installed: '3.0.1' }, none('up-to-date', '3.0.1'));
  // Patched deltas: offered only to a device that says it applies patches.
  add('a device that applies patches gets the patched delta', 'patched', { installed: '2.0.0', patches: true }, { update: true, kind: 'delta', patched: true, key: 'packages/maps/2.0.1/delta-from-2.0.0.patched.zip' });
  add('any other device gets the file-level delta', 'patched', { installed: '2.0.0' }, { update: true, kind: 'delta', patched: false, key: 'packages/maps/2.0.1/delta-from-2.0.0.zip' });
  add('a full package is never patched', 'patched', { patches: true }, { update: true, kind: 'full', patched: false, reason: 'not-installed' });
  return { indexes, cases };
}

function patchedDelta(version: string, from: string) {
  const [plain] = release('maps', version, {}, 'active', [from]).deltas;
  const patchedKey = `packages/maps/${version}/delta-from-${from}.patched.zip`;
  return { ...plain, patched: { key: patchedKey, size: 40, sha256: 'ab'.repeat(32) } };
}

function installFolderCases(): DraftCase[] {
  const cases: DraftCase[] = [];
  const trust = { channel: 'production', indexVersion: 7, signed: true };
  const folder = (name: string, marker: unknown, otherEntries: string[], want: unknown) =>
    cases.push({
      name,
      check: 'install-folder',
      package: 'maps',
      ...(marker !== undefined && { marker: typeof marker === 'string' ? marker : JSON.stringify(marker) }),
      otherEntries,
      want,
    });
  folder('a missing or empty folder: nothing installed, nothing remembered', undefined, [], { ok: true, installed: null, trust: null });
  folder('installed by a client', { package: 'maps', version: '1.0.1', channel: 'production', installedAt: NOW, trust }, ['a.txt', 'sub'], { ok: true, installed: '1.0.1', trust });
  folder('a base marker an app wrote beside the content it ships (package and version only)', { package: 'maps', version: '1.0.0' }, ['a.txt'], { ok: true, installed: '1.0.0', trust: null });
  folder('a trust-only marker: nothing installed, the channel remembered', { package: 'maps', version: null, channel: 'production', trust }, [], { ok: true, installed: null, trust });
  folder('a trust-only marker beside files is damaged', { package: 'maps', version: null, channel: 'production', trust }, ['a.txt'], { ok: false, error: 'input' });
  folder('files without a marker: not an install folder (installing would delete them)', undefined, ['notes.txt'], { ok: false, error: 'input' });
  folder('another package', { package: 'levels', version: '1.0.0' }, ['a.txt'], { ok: false, error: 'input' });
  folder('a marker whose version is not SemVer 2.0.0', { package: 'maps', version: 'v1.0.0' }, ['a.txt'], { ok: false, error: 'input' });
  folder('a marker without version', { package: 'maps' }, ['a.txt'], { ok: false, error: 'input' });
  folder('a marker that is not JSON', '{"package":"maps",', ['a.txt'], { ok: false, error: 'input' });
  folder('a marker that is not an object', '["maps","1.0.0"]', ['a.txt'], { ok: false, error: 'input' });
  folder('build metadata in a base marker is kept as written', { package: 'maps', version: '1.0.0+ios.45' }, ['a.txt'], { ok: true, installed: '1.0.0+ios.45', trust: null });
  folder('a malformed trust is nothing remembered (not damage)', { package: 'maps', version: '1.0.1', trust: { channel: 'production', indexVersion: -1, signed: true } }, ['a.txt'], {
    ok: true,
    installed: '1.0.1',
    trust: null,
  });
  const remember = (name: string, state: unknown, newTrust: unknown, want: unknown) =>
    cases.push({ name, check: 'remember-trust', package: 'maps', channel: 'production', ...(state !== undefined && { state }), trust: newTrust, want });
  const next = { channel: 'production', indexVersion: 8, signed: true };
  remember('nothing installed, nothing to install: write a trust-only marker', undefined, trust, { write: { package: 'maps', version: null, channel: 'production', trust } });
  remember('a trust-only marker whose trust moved on: rewritten', { package: 'maps', version: null, channel: 'production', trust }, next, {
    write: { package: 'maps', version: null, channel: 'production', trust: next },
  });
  remember('the same trust: nothing to write', { package: 'maps', version: '1.0.1', channel: 'production', installedAt: NOW, trust }, trust, { write: null });
  remember('installed, trust moved on: the marker keeps every member, with the new trust', { package: 'maps', version: '1.0.1', channel: 'production', installedAt: NOW, trust }, next, {
    write: { package: 'maps', version: '1.0.1', channel: 'production', installedAt: NOW, trust: next },
  });
  remember('a base marker gains the trust', { package: 'maps', version: '1.0.0' }, trust, { write: { package: 'maps', version: '1.0.0', trust } });
  return cases;
}

function installOrderCases(): DraftCase[] {
  const cases: DraftCase[] = [];
  const order = (name: string, kind: 'full' | 'delta', patched: boolean, failures: Record<string, string>, want: unknown) =>
    cases.push({ name, check: 'install-order', kind, patched, failures, want });
  order('a patched delta that works', 'delta', true, {}, { tried: ['patched'], installed: 'patched' });
  order('a patched delta that fails a check: the file-level delta', 'delta', true, { patched: 'bad-package' }, { tried: ['patched', 'delta'], installed: 'delta' });
  order('a damaged base under a patched delta: straight to the full package', 'delta', true, { patched: 'damaged-base' }, { tried: ['patched', 'full'], installed: 'full' });
  order('patched fails a check, then the delta finds a damaged base: the full package', 'delta', true, { patched: 'bad-package', delta: 'damaged-base' }, {
    tried: ['patched', 'delta', 'full'],
    installed: 'full',
  });
  order('patched and delta both fail a check: the full package', 'delta', true, { patched: 'bad-package', delta: 'bad-package' }, { tried: ['patched', 'delta', 'full'], installed: 'full' });
  order('a delta that fails a check: the full package', 'delta', false, { delta: 'bad-package' }, { tried: ['delta', 'full'], installed: 'full' });
  order('a delta over a damaged base: the full package', 'delta', false, { delta: 'damaged-base' }, { tried: ['delta', 'full'], installed: 'full' });
  order('the full package fails a check: refused', 'delta', false, { delta: 'bad-package', full: 'bad-package' }, { tried: ['delta', 'full'], installed: null, error: 'bad-package' });
  order('a network failure never falls back (retry later)', 'delta', true, { patched: 'other' }, { tried: ['patched'], installed: null, error: 'other' });
  order('a full package that fails: refused', 'full', false, { full: 'bad-package' }, { tried: ['full'], installed: null, error: 'bad-package' });
  return cases;
}

export function endToEndVectors(): DraftFile {
  const { indexes, cases: resolve } = resolveCases();
  return {
    name: 'end-to-end.json',
    description:
      'Decisions PROTOCOL.md revision 5 made normative (§1.1, §6.4, §10.2, §10.3). ' +
      'device-version: `text` → { valid }: exactly the SemVer 2.0.0 grammar, at most 256 characters, major/minor/patch at most 2^53 - 1. ' +
      'version-order: `a`, `b` → { order: -1 | 0 | 1 } by SemVer precedence (build metadata ignored). ' +
      'time: `text` → { instant } (toISOString form, millisecond precision) or { instant: null } when a reader must refuse it (§1.2). ' +
      'resolve: as resolve.json (`device.patches`: the device applies binary patches); a device version that is not SemVer 2.0.0 → { error: "input" }; without an update every member is present and `version` is the installed version or null. ' +
      'install-folder: `marker` (the text of .update-publish.json, absent: none) and `otherEntries` (every other name in the folder) → { ok: true, installed, trust } or { ok: false, error: "input" }. ' +
      'remember-trust: the folder\'s marker `state` (absent: none) and the `trust` just accepted, after a check that installs nothing → { write: the marker to write, or null }. ' +
      'install-order: the decision\'s `kind` and `patched`, and how each package fails (`failures`: patched | delta | full → bad-package | damaged-base | other; absent: it works) → { tried, installed, error? }.',
    shared: { indexes },
    cases: [...versionCases(), ...resolve, ...installFolderCases(), ...installOrderCases()],
  };
}
