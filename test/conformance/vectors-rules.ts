/**
 * Conformance vectors for what a device decides without downloading a
 * package: the rollout and whitelist hashes, app-version ranges, resolve
 * decisions and index freshness. Inputs only: the generator asks the
 * TypeScript client for each `expected`, and checks the cases whose answer is
 * the point against the answer written here (`want`).
 */
import { hash32, rolloutBucket } from '../../src/protocol/rollout.js';
import { whitelistShard } from '../../src/protocol/whitelist.js';
import type { ChannelIndex, Release, ReleaseRules, ReleaseState } from '../../src/protocol/types.js';
import { vectorFile, type VectorCase, type VectorFile, type VectorInputs } from './vector-file.js';

/** A case before its answer: `want`, when given, is what the answer must be (checked by the generator, then dropped). */
export type DraftCase = VectorInputs & { want?: unknown };

export interface DraftFile {
  name: string;
  description: string;
  shared?: Record<string, unknown>;
  cases: DraftCase[];
}

/** The first `device-<n>` whose bucket in packageId@version is `bucket`: edge devices for threshold cases. */
function deviceInBucket(bucket: number, packageId: string, version: string): string {
  for (let n = 0; n < 5_000_000; n++) {
    if (rolloutBucket(`device-${n}`, packageId, version) === bucket) return `device-${n}`;
  }
  throw new Error(`no device id lands in bucket ${bucket}`);
}

export function hashVectors(): DraftFile {
  const texts: [string, string][] = [
    ['empty string', ''],
    ['one ASCII character', 'a'],
    ['ASCII id', 'maps@1.0.1:device-1'],
    ['Latin-1 character (one UTF-16 unit, two UTF-8 bytes)', 'gerät'],
    ['precomposed é (U+00E9)', '\u00e9'],
    ['decomposed é (e + U+0301): other units, other hash', 'e\u0301'],
    ['CJK (one unit, three UTF-8 bytes)', '设备'],
    ['astral emoji (a surrogate pair: two units)', '📱'],
    ['astral character among ASCII', 'maps@1.0.0:📱-phone'],
    ['NUL unit', 'a\u0000b'],
    ['unit above 0x7FFF', '\uffff'],
  ];
  const cases: DraftCase[] = texts.map(([name, text]) => ({ name, check: 'hash32', text }));
  // The worked examples of PROTOCOL.md §6.2 and §7: the spec and the code must agree.
  for (const [text, hash] of [['maps@1.0.0:device-1', 636942837], ['maps@1.0.0:', 3322567109], ['maps@1.2.0:Jürgen-📱', 2950957151], ['whitelist:qa-phone', 771340811]] as const) {
    cases.push({ name: `PROTOCOL.md example ${JSON.stringify(text)}`, check: 'hash32', text, want: { hash32: hash } });
  }
  return {
    name: 'hash.json',
    description:
      'hash32: FNV-1a (offset basis 0x811c9dc5, prime 0x01000193) over the UTF-16 code units of the text (not UTF-8 bytes, not code points), each unit XORed in whole, then murmur3 fmix32; an unsigned 32-bit result.',
    cases,
  };
}

export function rolloutVectors(): DraftFile {
  const cases: DraftCase[] = [];
  const edge = (name: string, version: string, bucket: number, rules: Pick<ReleaseRules, 'rollout' | 'rolloutBasisPoints'>, inside: boolean) => {
    const deviceId = deviceInBucket(bucket, 'maps', version);
    cases.push({ name, check: 'rollout', packageId: 'maps', version, deviceId, rules, want: { bucket, inside } });
  };
  edge('1.1 %: bucket 109 is inside', '1.0.1', 109, { rollout: 1.1, rolloutBasisPoints: 110 }, true);
  edge('1.1 %: bucket 110 is outside (1.1*100 in doubles is 110.00000000000001)', '1.0.1', 110, { rollout: 1.1, rolloutBasisPoints: 110 }, false);
  edge('1.1 % in an index without rolloutBasisPoints: round(rollout*100) = 110', '1.0.1', 110, { rollout: 1.1 }, false);
  edge('0.29 %: bucket 28 is inside (truncating 0.29*100 = 28.999999999999996 gives 28)', '1.0.1', 28, { rollout: 0.29, rolloutBasisPoints: 29 }, true);
  edge('0.29 %: bucket 29 is outside', '1.0.1', 29, { rollout: 0.29, rolloutBasisPoints: 29 }, false);
  edge('0.29 % without rolloutBasisPoints: round, never truncate', '1.0.1', 28, { rollout: 0.29 }, true);
  edge('0 %: bucket 0 is outside (nobody)', '1.0.1', 0, { rollout: 0, rolloutBasisPoints: 0 }, false);
  edge('100 %: bucket 9999 is inside (everybody)', '1.0.1', 9999, { rollout: 100, rolloutBasisPoints: 10000 }, true);
  edge('12.5 %: bucket 1249 is inside', '2.0.0', 1249, { rollout: 12.5, rolloutBasisPoints: 1250 }, true);
  edge('12.5 %: bucket 1250 is outside', '2.0.0', 1250, { rollout: 12.5, rolloutBasisPoints: 1250 }, false);
  edge('rolloutBasisPoints wins over rollout when both are present', '1.0.1', 500, { rollout: 50, rolloutBasisPoints: 500 }, false);
  const ids: [string, string][] = [
    ['ASCII id', 'device-1'],
    ['UUID', '3f2b8c1e-9a4d-4e7b-8f60-2c1d5e9a7b30'],
    ['empty id (a device that sends none)', ''],
    ['Latin-1 id', 'gerät-ü'],
    ['decomposed id', 'cafe\u0301'],
    ['CJK id', '设备-42'],
    ['astral id (surrogate pairs)', '📱-phone-🚀'],
  ];
  for (const [name, deviceId] of ids) {
    cases.push({ name: `${name}, 50 %`, check: 'rollout', packageId: 'maps', version: '1.0.1', deviceId, rules: { rollout: 50, rolloutBasisPoints: 5000 } });
  }
  cases.push({ name: 'prerelease version in the hash input', check: 'rollout', packageId: 'levels', version: '2.0.0-beta.1', deviceId: 'device-7', rules: { rollout: 50, rolloutBasisPoints: 5000 } });
  return {
    name: 'rollout.json',
    description:
      'bucket = hash32(`${packageId}@${version}:${deviceId}`) % 10000; threshold = rules.rolloutBasisPoints, or Math.round(rules.rollout * 100) when absent (older indexes); inside when bucket < threshold, both integers.',
    cases,
  };
}

export function whitelistVectors(): DraftFile {
  const cases: DraftCase[] = [];
  const shardCase = (name: string, id: string, shards: number, version?: number) =>
    cases.push({ name, check: 'whitelist-shard', list: 'qa', id, shards, ...(version !== undefined && { version }) });
  shardCase('ASCII id, 7 shards, upload 3', 'qa-phone-1', 7, 3);
  shardCase('one shard: always shard 000', 'qa-phone-1', 1, 1);
  shardCase('astral id, 500 shards (three-digit name)', '📱-tester', 500, 12);
  shardCase('Latin-1 id, 1000 shards (shard numbers past 999 keep all digits)', 'gerät-ü', 1000, 2);
  shardCase('a list uploaded before shards were bound (no meta version): shard beside meta.json', 'qa-phone-1', 7);

  const meta = { name: 'qa', count: 5, shards: 1, uploadedAt: '2026-01-01T00:00:00.000Z', version: 4 };
  // UTF-16 order puts the surrogate pair of 📱 (0xD83D…) before U+FF5E; code point order puts it after.
  const ids = ['a-phone', 'b-phone', 'c-phone', '📱', '～'];
  const shardDocument = { list: 'qa', version: 4, shard: 0, ids };
  const member = (name: string, id: string, document: unknown, want: unknown, listMeta: Record<string, unknown> = meta) =>
    cases.push({ name, check: 'whitelist-member', list: 'qa', meta: listMeta, shardDocument: document, id, want });
  member('member', 'b-phone', shardDocument, { member: true });
  member('not a member', 'z-phone', shardDocument, { member: false });
  member('ids are sorted by UTF-16 code units: binary search must compare units (finds U+FF5E)', '～', shardDocument, { member: true });
  member('ids are sorted by UTF-16 code units: binary search must compare units (finds the emoji)', '📱', shardDocument, { member: true });
  member('ids compare exactly (no trimming, no case folding on the device)', 'B-PHONE', shardDocument, { member: false });
  member('a shard naming another list is refused', 'b-phone', { ...shardDocument, list: 'beta' }, { error: 'bad-whitelist' });
  member('a shard of another upload is refused', 'b-phone', { ...shardDocument, version: 3 }, { error: 'bad-whitelist' });
  member('a shard with another number is refused', 'b-phone', { ...shardDocument, shard: 1 - whitelistShard('b-phone', 2) }, { error: 'bad-whitelist' }, { ...meta, shards: 2 });
  member('a shard that is not a shard document is refused', 'b-phone', ids, { error: 'bad-whitelist' });
  member('a meta naming another list is refused', 'b-phone', shardDocument, { error: 'bad-whitelist' }, { ...meta, name: 'beta' });
  member('a meta with more than 1,000,000 shards is refused', 'b-phone', shardDocument, { error: 'bad-whitelist' }, { ...meta, shards: 1_000_001 });
  member('a meta with 0 shards is refused', 'b-phone', shardDocument, { error: 'bad-whitelist' }, { ...meta, shards: 0 });
  const legacyMeta = { name: 'qa', count: 5, shards: 1, uploadedAt: '2026-01-01T00:00:00.000Z' };
  member('a list without meta version: its shard is a bare array of ids', 'c-phone', ids, { member: true }, legacyMeta);
  // The channel index binds the upload of each list its rules use: devices read that upload's shard, no meta.
  const bound = (name: string, id: string, bindings: Record<string, unknown>, document: unknown, want: unknown) =>
    cases.push({ name, check: 'whitelist-bound', list: 'qa', bindings, shardDocument: document, id, want });
  const binding = { qa: { version: 4, shards: 1 } };
  bound('the index binds upload 4: the shard of upload 4 is read', 'b-phone', binding, shardDocument, { bound: true, key: 'whitelists/qa/v4/shard-000.json', member: true });
  bound('an older upload put back (its shard, upload 3, served at any key) is refused: a rollback of the list', 'b-phone', binding, { ...shardDocument, version: 3 }, { error: 'bad-whitelist' });
  bound('the binding gives the shard count: 2 shards', 'b-phone', { qa: { version: 4, shards: 2 } }, { ...shardDocument, shard: whitelistShard('b-phone', 2) }, {
    bound: true,
    key: `whitelists/qa/v4/shard-00${whitelistShard('b-phone', 2)}.json`,
    member: true,
  });
  bound('a list the index does not bind (written before lists were bound): its meta is read as before', 'b-phone', {}, shardDocument, { bound: false });
  bound('a malformed binding is refused', 'b-phone', { qa: { version: 0, shards: 1 } }, shardDocument, { error: 'bad-whitelist' });
  return {
    name: 'whitelist.json',
    description:
      'shard = hash32(`whitelist:${id}`) % meta.shards; key whitelists/<list>/v<meta.version>/shard-<shard, at least 3 digits>.json (without meta.version: whitelists/<list>/shard-<nnn>.json, a bare array). A shard document { list, version, shard, ids } must name the list, the upload and the shard asked for; ids are sorted by UTF-16 code units and compared exactly. whitelist-bound: the channel index member `whitelists` maps a list to { version, shards } (positive integers); a bound list is read from that upload alone (no meta.json), an unbound one through its meta.',
    cases,
  };
}

export function appVersionVectors(): DraftFile {
  const versions = ['0.9.0', '1.0.0', '1.2.3', '1.2.4-beta.1', '1.3.0', '2.0.0-alpha', '2.0.0-beta.2', '2.0.0', '2.5.1', '3.0.0-rc.1', '3.0.0'];
  const ranges = [
    '*',
    '',
    '1.2.3',
    '=1.2.3',
    '>=1.2.3',
    '>1.2.3',
    '<2.0.0',
    '<=2.0.0',
    '>=2.0.0 <3',
    '>=2.0.0 <3.0.0',
    '1.x',
    '1.2.*',
    '2',
    '~1.2.3',
    '~1.2',
    '~1',
    '^1.2.3',
    '^0.9.0',
    '^0.0.3',
    '^2.0.0-alpha',
    '~2.0.0-beta.1',
    '>=2.0.0-beta.1',
    '>=1.2.4-beta.1 <1.3.0',
    '1.2.3 - 2.0.0',
    '1.2 - 2',
    '<1.0.0 || >=2.5.0',
    '^1.2.3 || ^2.0.0',
    '>= 1.2.3 < 2',
    '>=3.0.0-rc.1',
    '<3.0.0-rc.1',
  ];
  const cases = ranges.map((range): DraftCase => ({ name: `'${range}'`, check: 'app-version', range, versions }));
  cases.push({
    name: 'a prerelease satisfies only a comparator with a prerelease on the same major.minor.patch',
    check: 'app-version',
    range: '>=2.0.0-beta.1 <3',
    versions: ['2.0.0-beta.1', '2.0.0-beta.3', '2.0.0', '2.1.0-beta.1', '2.9.9'],
    want: { satisfies: [true, true, true, false, true] },
  });
  return {
    name: 'app-version.json',
    description:
      'rules.appVersion is a node-semver range (strict mode, includePrerelease false): ' +
      'a version with a prerelease tag satisfies it only when some comparator of the matching set has a prerelease on the same major.minor.patch. ' +
      '`satisfies` lists, per entry of `versions`, whether it is in the range.',
    cases,
  };
}

const T0 = '2026-03-01T00:00:00.000Z';
const object = (key: string, size: number) => ({ key, size, sha256: hash32(key).toString(16).padStart(8, '0').repeat(8) });

export function release(id: string, version: string, rules: Partial<ReleaseRules>, state: ReleaseState = 'active', deltasFrom: string[] = []): Release {
  const rollout = rules.rollout ?? 100;
  return {
    version,
    releasedAt: T0,
    state,
    manifest: { ...object(`packages/${id}/${version}/manifest.json`, 500) },
    full: object(`packages/${id}/${version}/full.zip`, 1000),
    deltas: deltasFrom.map((from) => ({ from, ...object(`packages/${id}/${version}/delta-from-${from}.zip`, 100) })),
    rules: { ...rules, rollout, rolloutBasisPoints: Math.round(rollout * 100), mandatory: rules.mandatory ?? false },
  };
}

export const indexOf = (packages: Record<string, Release[]>): ChannelIndex => ({
  schemaVersion: 1,
  channel: 'production',
  updatedAt: T0,
  version: 7,
  expires: '2026-12-01T00:00:00.000Z',
  packages: Object.fromEntries(Object.entries(packages).map(([id, releases]) => [id, { releases }])),
});

export function resolveVectors(): DraftFile {
  const inside = (version: string, rollout: number) => deviceInBucket(Math.max(0, Math.round(rollout * 100) - 1), 'maps', version);
  const outside = (version: string, rollout: number) => deviceInBucket(Math.round(rollout * 100), 'maps', version);
  const indexes = {
    rollback: indexOf({
      maps: [
        release('maps', '1.0.3', {}, 'rolled-back', ['1.0.2']),
        release('maps', '1.0.2', { rollout: 50 }, 'active', ['1.0.1', '1.0.0']),
        release('maps', '1.0.1', { mandatory: true }, 'active', ['1.0.0']),
        release('maps', '1.0.0', {}),
      ],
    }),
    halted: indexOf({ maps: [release('maps', '2.0.1', {}, 'halted'), release('maps', '2.0.0', {})] }),
    sentBackOutsideRollout: indexOf({ maps: [release('maps', '3.0.1', {}, 'rolled-back'), release('maps', '3.0.0', { rollout: 10 })] }),
    window: indexOf({
      maps: [release('maps', '4.0.1', { startsAt: '2026-06-01T00:00:00Z', endsAt: '2026-06-08T12:00:00+02:00' }), release('maps', '4.0.0', {})],
    }),
    targeting: indexOf({
      maps: [
        release('maps', '5.0.2', { platforms: ['ios'], appVersion: '>=2.0.0 <3', attributes: { region: 'eu' } }),
        release('maps', '5.0.1', { platforms: ['Android'] }),
        release('maps', '5.0.0', {}),
      ],
    }),
    prereleaseRange: indexOf({ maps: [release('maps', '5.1.0', { appVersion: '^2.0.0-beta.1' }), release('maps', '5.0.0', {})] }),
    whitelist: indexOf({ maps: [release('maps', '6.0.2', { rollout: 0, whitelist: ['qa'] }), release('maps', '6.0.1', { rollout: 50 }), release('maps', '6.0.0', {})] }),
    skippedMandatory: indexOf({
      maps: [
        release('maps', '7.0.3', {}, 'active', ['7.0.0']),
        release('maps', '7.0.2', { mandatory: true }, 'halted'),
        release('maps', '7.0.1', { mandatory: true, platforms: ['ios'], rollout: 0 }),
        release('maps', '7.0.0', {}),
      ],
    }),
  };
  const now = '2026-05-01T00:00:00.000Z';
  const cases: DraftCase[] = [];
  const add = (name: string, index: keyof typeof indexes, device: Record<string, unknown>, want?: Record<string, unknown>, whitelists?: Record<string, string[]>) =>
    cases.push({ name, check: 'resolve', index, device: { package: 'maps', now, ...device }, ...(whitelists && { whitelists }), ...(want && { want: withoutOmitted(want) }) });

  const in102 = inside('1.0.2', 50);
  const out102 = outside('1.0.2', 50);
  add('not installed, inside the 50 % rollout: newest release, full', 'rollback', { deviceId: in102 }, { update: true, version: '1.0.2', kind: 'full', reason: 'not-installed', mandatory: false });
  add('installed 1.0.0, inside: delta to 1.0.2, mandatory because 1.0.1 was skipped', 'rollback', { deviceId: in102, installed: '1.0.0' }, { version: '1.0.2', kind: 'delta', mandatory: true, reason: 'newer-release' });
  add('installed 1.0.0, outside 1.0.2: the next older matching release', 'rollback', { deviceId: out102, installed: '1.0.0' }, { version: '1.0.1', kind: 'delta', mandatory: true });
  add('installed the rolled-back 1.0.3, inside: sent back to 1.0.2', 'rollback', { deviceId: in102, installed: '1.0.3' }, { version: '1.0.2', reason: 'rollback', kind: 'full' });
  add('installed the rolled-back 1.0.3, outside 1.0.2: sent back to 1.0.1', 'rollback', { deviceId: out102, installed: '1.0.3' }, { version: '1.0.1', reason: 'rollback' });
  add('installed 1.0.2, inside: up to date', 'rollback', { deviceId: in102, installed: '1.0.2' }, { update: false, version: '1.0.2', reason: 'up-to-date' });
  add('installed 1.0.2, outside (rollout lowered): stays, never downgraded', 'rollback', { deviceId: out102, installed: '1.0.2' }, { update: false, version: '1.0.2', reason: 'installed-newer' });
  add('installed 1.0.1, outside: up to date', 'rollback', { deviceId: out102, installed: '1.0.1' }, { update: false, reason: 'up-to-date' });
  add('unknown package', 'rollback', { package: 'levels', deviceId: in102 }, { update: false, version: null, reason: 'unknown-package' });
  add('a halted release is served to nobody', 'halted', { deviceId: 'device-1' }, { version: '2.0.0' });
  add('a device holding the halted release keeps it', 'halted', { deviceId: 'device-1', installed: '2.0.1' }, { update: false, reason: 'installed-newer' });
  add('sent back to a release whose rollout never reached the device', 'sentBackOutsideRollout', { deviceId: outside('3.0.0', 10), installed: '3.0.1' }, { version: '3.0.0', reason: 'rollback' });
  add('before the window (startsAt is inclusive)', 'window', { deviceId: 'device-1', now: '2026-05-31T23:59:59.999Z' }, { version: '4.0.0' });
  add('at startsAt', 'window', { deviceId: 'device-1', now: '2026-06-01T00:00:00.000Z' }, { version: '4.0.1' });
  add('just before endsAt (an offset time: 10:00 UTC)', 'window', { deviceId: 'device-1', now: '2026-06-08T09:59:59.999Z' }, { version: '4.0.1' });
  add('at endsAt (exclusive)', 'window', { deviceId: 'device-1', now: '2026-06-08T10:00:00.000Z' }, { version: '4.0.0' });
  const target = { deviceId: 'device-1', platform: 'ios', appVersion: '2.3.0', attributes: { region: 'eu', locale: 'de' } };
  add('every rule matches (extra attributes are fine)', 'targeting', target, { version: '5.0.2' });
  add('platform case: iOS is ios', 'targeting', { ...target, platform: 'iOS' }, { version: '5.0.2' });
  add('platform is trimmed', 'targeting', { ...target, platform: ' IOS ' }, { version: '5.0.2' });
  add('a platform listed in capitals in the index matches in any case', 'targeting', { deviceId: 'device-1', platform: 'android' }, { version: '5.0.1' });
  add('another platform', 'targeting', { ...target, platform: 'ipados' }, { version: '5.0.0' });
  add('no platform sent: releases with platforms do not match', 'targeting', { ...target, platform: undefined }, { version: '5.0.0' });
  add('app version outside the range', 'targeting', { ...target, appVersion: '3.0.0' }, { version: '5.0.0' });
  add('a prerelease app version is outside >=2.0.0 <3', 'targeting', { ...target, appVersion: '2.5.0-beta.1' }, { version: '5.0.0' });
  add('no app version sent: ranges do not match', 'targeting', { ...target, appVersion: undefined }, { version: '5.0.0' });
  add('attributes compare exactly (EU is not eu)', 'targeting', { ...target, attributes: { region: 'EU' } }, { version: '5.0.0' });
  add('a missing attribute does not match', 'targeting', { ...target, attributes: {} }, { version: '5.0.0' });
  add('prerelease range: a prerelease of the same version matches', 'prereleaseRange', { deviceId: 'device-1', appVersion: '2.0.0-beta.3' }, { version: '5.1.0' });
  add('prerelease range: a prerelease of another version does not', 'prereleaseRange', { deviceId: 'device-1', appVersion: '2.1.0-beta.1' }, { version: '5.0.0' });
  add('prerelease range: a release version matches', 'prereleaseRange', { deviceId: 'device-1', appVersion: '2.1.0' }, { version: '5.1.0' });
  add('whitelisted device gets a 0 % release', 'whitelist', { deviceId: 'qa-1' }, { version: '6.0.2' }, { qa: ['qa-1'] });
  add('device not in the list: the rollout decides', 'whitelist', { deviceId: outside('6.0.1', 50) }, { version: '6.0.0' }, { qa: ['qa-1'] });
  add('no device id: bucket of the empty id, whitelists ignored', 'whitelist', {}, undefined, { qa: [''] });
  add('skipped mandatory release meant for the device (its rollout does not matter)', 'skippedMandatory', { deviceId: 'device-1', platform: 'ios', installed: '7.0.0' }, { version: '7.0.3', kind: 'delta', mandatory: true });
  add('skipped mandatory release for another platform: not mandatory', 'skippedMandatory', { deviceId: 'device-1', platform: 'android', installed: '7.0.0' }, { version: '7.0.3', mandatory: false });
  add('a halted mandatory release does not make the update mandatory', 'skippedMandatory', { deviceId: 'device-1', platform: 'android', installed: '7.0.1' }, { version: '7.0.3', kind: 'full', mandatory: false });
  add('not installed: nothing was skipped', 'skippedMandatory', { deviceId: 'device-1', platform: 'ios' }, { version: '7.0.3', mandatory: false });
  return {
    name: 'resolve.json',
    description:
      'resolveUpdate(index, device): the newest release whose rules all match (state active, platform listed (trimmed, case-insensitive), app version in the range, startsAt <= now < endsAt, attributes equal, device in the rollout or in a listed whitelist); a device on a rolled-back release is sent back to the newest older release matching apart from its rollout; a delta when the release lists one from the installed version; mandatory when the target is, or a skipped release between installed and target is mandatory, active and targets the device (whatever its rollout). `whitelists` gives list membership (list name → ids); absent fields of `device` are not sent.',
    shared: { indexes },
    cases,
  };
}

/** A `want` lists only the fields a case is about; undefined ones are dropped from the comparison. */
const withoutOmitted = (want: Record<string, unknown>) => Object.fromEntries(Object.entries(want).filter(([, value]) => value !== undefined));

export function freshnessVectors(): DraftFile {
  const index = (version: number | undefined, expires?: string) => ({ schemaVersion: 1, channel: 'production', updatedAt: T0, ...(version !== undefined && { version }), ...(expires && { expires }), packages: {} });
  const remembered = (indexVersion: number, signed: boolean, channel = 'production') => ({ channel, indexVersion, signed });
  const now = '2026-05-01T00:00:00.000Z';
  const cases: DraftCase[] = [];
  const add = (name: string, input: Record<string, unknown>, want: unknown) => cases.push({ name, check: 'freshness', now, ...input, want });
  add('first check, signed', { index: index(5, '2026-06-01T00:00:00Z'), signed: true }, { ok: true, remember: remembered(5, true) });
  add('first check, unsigned, no expiry', { index: index(5), signed: false }, { ok: true, remember: remembered(5, false) });
  add('a newer version', { index: index(6, '2026-06-01T00:00:00Z'), signed: true, remembered: remembered(5, true) }, { ok: true, remember: remembered(6, true) });
  add('the same version again', { index: index(5, '2026-06-01T00:00:00Z'), signed: true, remembered: remembered(5, true) }, { ok: true, remember: remembered(5, true) });
  add('an older version: rollback', { index: index(4, '2026-06-01T00:00:00Z'), signed: true, remembered: remembered(5, true) }, { ok: false, reason: 'rollback' });
  add('an index without version reads as 0: rollback after 3', { index: index(undefined), signed: false, remembered: remembered(3, false) }, { ok: false, reason: 'rollback' });
  add('unsigned after signed', { index: index(6, '2026-06-01T00:00:00Z'), signed: false, remembered: remembered(5, true) }, { ok: false, reason: 'unsigned' });
  add('unsigned after unsigned', { index: index(6), signed: false, remembered: remembered(5, false) }, { ok: true, remember: remembered(6, false) });
  add('signed after unsigned: remembered as signed from now on', { index: index(6, '2026-06-01T00:00:00Z'), signed: true, remembered: remembered(5, false) }, { ok: true, remember: remembered(6, true) });
  add('expired: now equals expires', { index: index(6, now), signed: true, remembered: remembered(5, true) }, { ok: false, reason: 'expired' });
  add('one millisecond before expires', { index: index(6, '2026-05-01T00:00:00.001Z'), signed: true }, { ok: true, remember: remembered(6, true) });
  add('expires with an offset', { index: index(6, '2026-05-01T01:59:59+02:00'), signed: true }, { ok: false, reason: 'expired' });
  add('unsigned is reported before rollback', { index: index(1), signed: false, remembered: remembered(5, true) }, { ok: false, reason: 'unsigned' });
  add('rollback is reported before expiry', { index: index(4, '2026-01-01T00:00:00Z'), signed: true, remembered: remembered(5, true) }, { ok: false, reason: 'rollback' });
  add('what is remembered of another channel does not apply', { index: index(1), signed: false, remembered: remembered(9, true, 'beta') }, { ok: true, remember: remembered(1, false) });
  return {
    name: 'freshness.json',
    description:
      'A device remembers per channel { channel, indexVersion, signed } and refuses, in this order: an unsigned index once a signed one was accepted (unsigned), a version below indexVersion (rollback; a missing version is 0), now >= expires (expired). Accepting remembers the higher version and signed = signed or remembered.signed. `signed` says the index carried a valid signature by a trusted key.',
    cases,
  };
}

/** The vector file with every case answered by `answer`, checking each `want` on the way. */
export async function answered(draft: DraftFile, answer: (file: VectorFile, vector: VectorCase) => Promise<unknown>): Promise<VectorFile> {
  const file = vectorFile(draft.description, [], draft.shared);
  for (const { want, ...draftCase } of draft.cases) {
    // As clients will read it: undefined fields gone.
    const vector = JSON.parse(JSON.stringify(draftCase)) as VectorInputs;
    const expected = JSON.parse(JSON.stringify(await answer(file, { ...vector, expected: undefined })));
    if (want !== undefined) assertIncludes(expected, want, `${draft.name}: '${vector.name}'`);
    file.cases.push({ ...vector, expected });
  }
  return file;
}

function assertIncludes(actual: unknown, want: unknown, where: string): void {
  const check = (a: unknown, w: unknown, path: string) => {
    if (w !== null && typeof w === 'object' && !Array.isArray(w)) {
      for (const [key, value] of Object.entries(w)) check((a as Record<string, unknown>)?.[key], value, `${path}.${key}`);
    } else if (JSON.stringify(a) !== JSON.stringify(w)) {
      throw new Error(`${where}: ${path} is ${JSON.stringify(a)}, the case says ${JSON.stringify(w)}`);
    }
  };
  check(actual, want, 'expected');
}
