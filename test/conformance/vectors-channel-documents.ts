/**
 * Conformance vectors for the two other documents a device polls —
 * switches (§14.1) and app-upgrade notices (§14.2) — and for run-once steps
 * (§15): targeting, rollout buckets under their salts, whitelists, time
 * windows, expiry and rollback of the documents, their signatures, and the
 * checks a device makes of what they hold (switch types, https store pages).
 */
import { bucketOf } from '../../src/protocol/rollout.js';
import { signDocument } from '../../src/protocol/signature.js';
import type { DraftCase, DraftFile } from './vectors-rules.js';
import { signingKey } from './vectors-trust.js';

const NOW = '2026-05-01T00:00:00.000Z';
const T0 = '2026-03-01T00:00:00.000Z';

/** The first `device-<n>` whose bucket under `salt` is `bucket`. */
function deviceInBucket(salt: string, bucket: number): string {
  for (let n = 0; n < 5_000_000; n++) if (bucketOf(salt, `device-${n}`) === bucket) return `device-${n}`;
  throw new Error(`no device id lands in bucket ${bucket} of ${salt}`);
}

const rules = (rollout: number, extra: Record<string, unknown> = {}) => ({ rollout, rolloutBasisPoints: Math.round(rollout * 100), ...extra });
const header = (version: number, extra: Record<string, unknown> = {}) => ({ schemaVersion: 1, channel: 'production', version, updatedAt: T0, expires: '2026-12-01T00:00:00.000Z', ...extra });

export function switchVectors(): DraftFile {
  const documents = {
    main: header(7, {
      switches: {
        newCheckout: {
          type: 'boolean',
          default: false,
          variants: [
            { value: true, rules: rules(0, { whitelist: ['qa'] }) },
            { value: true, rules: rules(10, { platforms: ['ios'] }) },
            { value: true, rules: rules(30, { platforms: ['ios'] }) },
          ],
        },
        banner: {
          type: 'string',
          default: 'none',
          variants: [
            { value: 'sale', rules: rules(100, { startsAt: '2026-05-01T00:00:00Z', endsAt: '2026-05-08T12:00:00+02:00' }) },
            { value: 'eu', rules: rules(100, { attributes: { region: 'eu' } }) },
          ],
        },
        limits: { type: 'json', default: { max: 3 }, variants: [{ value: { max: 10 }, rules: rules(100, { appVersion: '>=2.0.0 <3' }) }] },
        untyped: { default: 1.5, variants: [{ value: 'two', rules: rules(100, { platforms: ['Android'] }) }] },
      },
    }),
    empty: header(0, { switches: {} }),
    wrongType: header(3, { switches: { flag: { type: 'boolean', default: false, variants: [{ value: 'yes', rules: rules(100) }] } } }),
    badKey: header(3, { switches: { '1flag': { default: false, variants: [] } } }),
    otherChannel: { ...header(3, { switches: {} }), channel: 'beta' },
    newerSchema: { ...header(3, { switches: {} }), schemaVersion: 2 },
    noRollout: header(3, { switches: { flag: { default: false, variants: [{ value: true, rules: { rolloutBasisPoints: 5000 } }] } } }),
    badRange: header(3, { switches: { flag: { default: false, variants: [{ value: true, rules: rules(100, { appVersion: '>=2.0.0 <<3' }) }] } } }),
    badTime: header(3, { switches: { flag: { default: false, variants: [{ value: true, rules: rules(100, { startsAt: '2026-06-01T10:00:00' }) }] } } }),
  };
  const cases: DraftCase[] = [];
  const add = (name: string, document: keyof typeof documents, device: Record<string, unknown>, want?: unknown, whitelists?: Record<string, string[]>) =>
    cases.push({ name, check: 'switches', document, device: { now: NOW, ...device }, ...(whitelists && { whitelists }), ...(want !== undefined && { want }) });
  const salt = 'switch:newCheckout';
  const in10 = deviceInBucket(salt, 999);
  const in30 = deviceInBucket(salt, 2999);
  const out30 = deviceInBucket(salt, 3000);
  add('inside 10 % on ios: variant 2 (first match wins)', 'main', { deviceId: in10, platform: 'ios' }, { values: { newCheckout: true }, reasons: { newCheckout: { source: 'variant', variant: 2 } } });
  add('inside 30 % but outside 10 %: variant 3 (one bucket per key: a wider variant adds devices)', 'main', { deviceId: in30, platform: 'ios' }, {
    reasons: { newCheckout: { source: 'variant', variant: 3 } },
  });
  add('outside 30 %: the default', 'main', { deviceId: out30, platform: 'ios' }, { values: { newCheckout: false }, reasons: { newCheckout: { source: 'default' } } });
  add('another platform: the default', 'main', { deviceId: in10, platform: 'android' }, { reasons: { newCheckout: { source: 'default' }, untyped: { source: 'variant', variant: 1 } } });
  add('whitelisted: variant 1 whatever the rollout', 'main', { deviceId: out30, platform: 'ios' }, { reasons: { newCheckout: { source: 'variant', variant: 1 } } }, { qa: [out30] });
  add('no device id: the bucket of the empty id, whitelists ignored', 'main', { platform: 'ios' }, undefined, { qa: [''] });
  add('inside the time window (startsAt inclusive)', 'main', { deviceId: 'device-1', now: '2026-05-01T00:00:00.000Z' }, { values: { banner: 'sale' } });
  add('at endsAt (exclusive; an offset time, 10:00 UTC): the next variant', 'main', { deviceId: 'device-1', now: '2026-05-08T10:00:00.000Z', attributes: { region: 'eu' } }, {
    values: { banner: 'eu' },
    reasons: { banner: { source: 'variant', variant: 2 } },
  });
  add('attributes compare exactly', 'main', { deviceId: 'device-1', now: '2026-06-01T00:00:00.000Z', attributes: { region: 'EU' } }, { values: { banner: 'none' } });
  add('an app version in the range: a JSON value', 'main', { deviceId: 'device-1', appVersion: '2.4.0' }, { values: { limits: { max: 10 } } });
  add('an app version with build metadata is in the range', 'main', { deviceId: 'device-1', appVersion: '2.4.0+77' }, { values: { limits: { max: 10 } } });
  add('an app version that is not SemVer 2.0.0: an input failure', 'main', { deviceId: 'device-1', appVersion: 'v2.4.0' }, { error: 'input' });
  add('a platform listed in capitals matches in any case; an untyped key may change type', 'main', { deviceId: 'device-1', platform: ' android ' }, { values: { untyped: 'two' } });
  add('an empty document: no keys', 'empty', { deviceId: 'device-1' }, { values: {}, reasons: {} });
  add('a value not of its key\'s type: the document is refused (integrity)', 'wrongType', { deviceId: 'device-1' }, { error: 'integrity' });
  add('a key that is not a switch key: refused (integrity)', 'badKey', { deviceId: 'device-1' }, { error: 'integrity' });
  add('a document of another channel: refused (integrity)', 'otherChannel', { deviceId: 'device-1' }, { error: 'integrity' });
  add('a schema version above 1: refused (integrity: this client cannot read it)', 'newerSchema', { deviceId: 'device-1' }, { error: 'integrity' });
  add('rules without rollout (rolloutBasisPoints alone): refused (integrity)', 'noRollout', { deviceId: 'device-1' }, { error: 'integrity' });
  add('an app-version range outside the grammar: refused (integrity)', 'badRange', { deviceId: 'device-1' }, { error: 'integrity' });
  add('a time without an offset: refused (integrity)', 'badTime', { deviceId: 'device-1' }, { error: 'integrity' });

  const fresh = (name: string, input: Record<string, unknown>, want: unknown) => cases.push({ name, check: 'document-freshness', now: NOW, ...input, want });
  const doc = (version: number | undefined, expires?: string) => ({ schemaVersion: 1, channel: 'production', ...(version !== undefined && { version }), updatedAt: T0, ...(expires && { expires }), switches: {} });
  const kept = (version: number, signed: boolean, channel = 'production') => ({ channel, version, signed });
  fresh('first read, signed', { document: doc(7, '2026-06-01T00:00:00Z'), signed: true }, { ok: true, remember: kept(7, true) });
  fresh('a switch rollback is a new version: accepted', { document: doc(9, '2026-06-01T00:00:00Z'), signed: true, remembered: kept(8, true) }, { ok: true, remember: kept(9, true) });
  fresh('an older version served again: rollback', { document: doc(6, '2026-06-01T00:00:00Z'), signed: true, remembered: kept(7, true) }, { ok: false, reason: 'rollback' });
  fresh('expired (now equals expires)', { document: doc(8, NOW), signed: true, remembered: kept(7, true) }, { ok: false, reason: 'expired' });
  fresh('unsigned after signed', { document: doc(8, '2026-06-01T00:00:00Z'), signed: false, remembered: kept(7, true) }, { ok: false, reason: 'unsigned' });
  fresh('what was kept of another channel does not apply', { document: doc(1), signed: false, remembered: kept(9, true, 'beta') }, { ok: true, remember: kept(1, false) });
  fresh('a document without version (never written) reads as 0', { document: doc(undefined), signed: false }, { ok: true, remember: kept(0, false) });

  // §3.1 `documents`: the index read first names the version of switches.json and app-releases.json it was written with.
  const bindingIndex = (documents?: unknown) => ({ schemaVersion: 1, channel: 'production', version: 12, updatedAt: T0, expires: '2026-12-01T00:00:00.000Z', packages: {}, ...(documents !== undefined && { documents }) });
  const bind = (name: string, index: unknown, document: 'switches' | 'appReleases', version: number, want: unknown) =>
    cases.push({ name, check: 'document-binding', index, document, version, want });
  const both = { switches: { version: 7 }, appReleases: { version: 3 } };
  bind('bound: switches of the version the index names', bindingIndex(both), 'switches', 7, { ok: true, bound: 7 });
  bind('bound: app releases of the version the index names', bindingIndex(both), 'appReleases', 3, { ok: true, bound: 3 });
  bind('an older signed copy put back (a replay): refused (integrity)', bindingIndex(both), 'switches', 6, { error: 'integrity' });
  bind('a newer copy than the index names (written after it): refused (integrity)', bindingIndex(both), 'appReleases', 4, { error: 'integrity' });
  bind('bound to 0 (no document when the index was written), one served: refused', bindingIndex({ switches: { version: 0 }, appReleases: { version: 0 } }), 'switches', 2, { error: 'integrity' });
  bind('bound to 0, absent (read as version 0): accepted', bindingIndex({ switches: { version: 0 }, appReleases: { version: 0 } }), 'appReleases', 0, { ok: true, bound: 0 });
  bind('bound, the document removed (read as version 0): refused', bindingIndex(both), 'switches', 0, { error: 'integrity' });
  bind('unbound: an index without `documents` (written before documents were bound) accepts any version', bindingIndex(), 'switches', 5, { ok: true, bound: null });
  bind('unbound: `documents` without an entry for the document', bindingIndex({ switches: { version: 7 } }), 'appReleases', 9, { ok: true, bound: null });
  bind('a malformed binding (version not a non-negative integer) makes the index malformed (integrity)', bindingIndex({ switches: { version: -1 }, appReleases: { version: 3 } }), 'appReleases', 3, { error: 'integrity' });
  bind('a binding that is not an object: the index is malformed (integrity)', bindingIndex({ switches: 7 }), 'switches', 7, { error: 'integrity' });

  const publisher = signingKey(1);
  const signed = signDocument(documents.main, publisher.signer);
  const sig = (name: string, document: unknown, want: unknown) => cases.push({ name, check: 'signature', document, trusted: ['publisher'], want });
  sig('a signed switches document', signed, { ok: true, keyId: publisher.signer.keyId });
  sig('a switches document altered after signing (a rollout raised)', { ...signed, version: 8 }, { ok: false, reason: 'bad-signature' });
  return {
    name: 'switches.json',
    description:
      'switches: `document` (a name in `documents`) read as a device reads it (schema version 1, the channel asked for is production, keys match ^[A-Za-z][A-Za-z0-9._-]{0,127}$, every value of a typed key is of its type; else { error: "integrity" }), then every key resolved for `device`: the value of the first variant whose rules match (rollout bucket = hash32("switch:" + key + ":" + deviceId) % 10000), else the default → { values, reasons }; an app version that is not SemVer 2.0.0 → { error: "input" }. ' +
      'document-freshness: `document`, `signed`, `remembered` ({ channel, version, signed }) → { ok: true, remember } or { ok: false, reason: unsigned | rollback | expired }, as freshness.json. ' +
      'signature: as signatures.json. ' +
      'document-binding (§3.1 `documents`): the channel `index` read first (as resolve.json reads one; a `documents` member that is not { switches?: { version }, appReleases?: { version } } with non-negative integer versions makes it malformed), then a `document` ("switches" or "appReleases") of `version` (an absent one: 0) → { ok: true, bound: the version the index names, or null when it names none (unbound: accepted) } or { error: "integrity" } when the versions differ.',
    shared: { documents, keys: { publisher: publisher.publicPem } },
    cases,
  };
}

export function appReleaseVectors(): DraftFile {
  const release = (version: string, extra: Record<string, unknown> = {}, ruleExtra: Record<string, unknown> = {}, rollout = 100, mandatory = false) => ({
    version,
    url: `https://apps.example.com/app/${version}`,
    releasedAt: T0,
    state: 'active',
    ...extra,
    rules: { ...rules(rollout, ruleExtra), mandatory },
  });
  const documents = {
    main: header(4, {
      platforms: {
        ios: {
          releases: [
            release('3.2.0', { message: 'Faster maps' }, { whitelist: ['qa'] }, 20),
            release('3.1.0', { state: 'halted' }, {}, 100, true),
            release('3.0.0', { minSupported: '2.5.0' }, { attributes: { region: 'eu' } }),
            release('2.9.0', {}, { appVersion: '<2.8.0' }, 100, true),
            release('2.5.0', {}, {}, 0),
          ],
        },
        android: { releases: [release('3.2.0', {}, { startsAt: '2026-06-01T00:00:00Z' })] },
      },
    }),
    httpUrl: header(2, { platforms: { ios: { releases: [{ ...release('3.0.0'), url: 'http://apps.example.com/app' }] } } }),
    badVersion: header(2, { platforms: { ios: { releases: [release('v3.0.0')] } } }),
    buildMetadata: header(2, { platforms: { ios: { releases: [release('3.0.0+7')] } } }),
  };
  const cases: DraftCase[] = [];
  const add = (name: string, document: keyof typeof documents, device: Record<string, unknown>, want?: unknown, whitelists?: Record<string, string[]>) =>
    cases.push({ name, check: 'app-upgrade', document, device: { now: NOW, ...device }, ...(whitelists && { whitelists }), ...(want !== undefined && { want }) });
  const in320 = deviceInBucket('app:ios@3.2.0', 1999);
  const out320 = deviceInBucket('app:ios@3.2.0', 2000);
  add('inside 3.2.0\'s 20 %: may upgrade to it', 'main', { platform: 'ios', appVersion: '3.0.0', deviceId: in320 }, { update: true, latest: '3.2.0', force: false, message: 'Faster maps', reason: 'newer-release' });
  add('outside 3.2.0\'s rollout, 3.1.0 halted: no matching release', 'main', { platform: 'ios', appVersion: '3.0.0', deviceId: out320 }, {
    update: false,
    latest: null,
    url: null,
    force: false,
    message: null,
    reason: 'no-matching-release',
  });
  add('below minSupported of a release on the way that targets it: forced', 'main', { platform: 'ios', appVersion: '2.4.0', deviceId: in320, attributes: { region: 'eu' } }, {
    latest: '3.2.0',
    force: true,
    reason: 'below-min-supported',
  });
  add('the minSupported release does not target it (region): 2.9.0 mandatory for <2.8.0 forces', 'main', { platform: 'ios', appVersion: '2.4.0', deviceId: in320 }, {
    latest: '3.2.0',
    force: true,
    reason: 'mandatory',
  });
  add('outside the rollout: the target is 3.0.0, and the mandatory 2.9.0 forces', 'main', { platform: 'ios', appVersion: '2.4.0', deviceId: out320, attributes: { region: 'eu' } }, {
    latest: '3.0.0',
    url: 'https://apps.example.com/app/3.0.0',
    force: true,
    reason: 'below-min-supported',
  });
  add('the newest version: up to date', 'main', { platform: 'ios', appVersion: '3.2.0', deviceId: in320 }, { update: false, reason: 'up-to-date' });
  add('build metadata: 3.2.0+512 is 3.2.0, up to date', 'main', { platform: 'ios', appVersion: '3.2.0+512', deviceId: in320 }, { update: false, reason: 'up-to-date' });
  add('a prerelease of the newest is below it', 'main', { platform: 'ios', appVersion: '3.2.0-rc.1', deviceId: in320 }, { update: true, latest: '3.2.0' });
  add('whitelisted: outside 3.2.0\'s rollout, still told of it', 'main', { platform: 'ios', appVersion: '3.0.0', deviceId: out320 }, { update: true, latest: '3.2.0' }, { qa: [out320] });
  add('platform is trimmed and lowercased', 'main', { platform: ' iOS ', appVersion: '3.1.5', deviceId: in320 }, { latest: '3.2.0' });
  add('before a release\'s startsAt: no matching release', 'main', { platform: 'android', appVersion: '3.0.0', deviceId: 'device-1' }, { update: false, reason: 'no-matching-release' });
  add('at startsAt', 'main', { platform: 'android', appVersion: '3.0.0', deviceId: 'device-1', now: '2026-06-01T00:00:00.000Z' }, { update: true, latest: '3.2.0' });
  add('a platform without releases', 'main', { platform: 'web', appVersion: '1.0.0' }, { update: false, reason: 'unknown-platform' });
  add('an app version that is not SemVer 2.0.0: an input failure', 'main', { platform: 'ios', appVersion: 'v3.0.0' }, { error: 'input' });
  add('an app version is required', 'main', { platform: 'ios', appVersion: '' }, { error: 'input' });
  add('a platform is required', 'main', { platform: ' ', appVersion: '1.0.0' }, { error: 'input' });
  add('a store page that is not https: the document is refused (integrity)', 'httpUrl', { platform: 'ios', appVersion: '1.0.0' }, { error: 'integrity' });
  add('a release version that is not SemVer 2.0.0: the document is refused (integrity)', 'badVersion', { platform: 'ios', appVersion: '1.0.0' }, { error: 'integrity' });
  add('a release version with build metadata: documents never hold one (integrity)', 'buildMetadata', { platform: 'ios', appVersion: '1.0.0' }, { error: 'integrity' });
  return {
    name: 'app-releases.json',
    description:
      'app-upgrade: `document` (a name in `documents`) read as a device reads it (as switches.json; versions SemVer 2.0.0, url https, state active | halted; else { error: "integrity" }), then resolveAppUpgrade for `device` ({ platform, appVersion, deviceId, attributes, now }; rollout bucket = hash32("app:" + platform + "@" + version + ":" + deviceId) % 10000) → { update, latest, url, force, message, reason }; an app version missing or not SemVer 2.0.0 → { error: "input" }.',
    shared: { documents },
    cases,
  };
}

export function runOnceVectors(): DraftFile {
  const cases: DraftCase[] = [];
  const add = (name: string, input: Record<string, unknown>, want: unknown) => cases.push({ name, check: 'run-once', ...input, want });
  add('a device that skipped versions runs every due step, ascending', { steps: ['2.0.0', '1.1.0', '1.2.0', '3.0.0'], done: [], installed: '2.0.0' }, {
    ran: ['1.1.0', '1.2.0', '2.0.0'],
    done: ['1.1.0', '1.2.0', '2.0.0'],
  });
  add('steps already recorded are not run again', { steps: ['1.1.0', '1.2.0'], done: ['1.1.0'], installed: '1.2.0' }, { ran: ['1.2.0'], done: ['1.1.0', '1.2.0'] });
  add('a recorded version counts by precedence (1.1.0+7 is 1.1.0)', { steps: ['1.1.0'], done: ['1.1.0+7'], installed: '1.1.0' }, { ran: [], done: ['1.1.0+7'] });
  add('a prerelease step runs before its release', { steps: ['2.0.0', '2.0.0-beta.1'], done: [], installed: '2.0.0' }, { ran: ['2.0.0-beta.1', '2.0.0'], done: ['2.0.0-beta.1', '2.0.0'] });
  add('a step above the installed version waits', { steps: ['1.0.0', '2.0.0'], done: [], installed: '1.5.0' }, { ran: ['1.0.0'], done: ['1.0.0'] });
  add('a failing step stops the run and is not recorded', { steps: ['1.0.0', '1.1.0', '1.2.0'], done: [], installed: '1.2.0', fails: '1.1.0' }, { ran: ['1.0.0'], done: ['1.0.0'], error: 'step' });
  add('entries of the record that are no version are kept, never matched', { steps: ['1.0.0'], done: ['migrated-by-hand'], installed: '1.0.0' }, { ran: ['1.0.0'], done: ['migrated-by-hand', '1.0.0'] });
  add('an installed version with build metadata', { steps: ['1.0.0'], done: [], installed: '1.0.0+ios.45' }, { ran: ['1.0.0'], done: ['1.0.0'] });
  add('a step version that is not SemVer 2.0.0: refused before anything runs', { steps: ['1.0.0', 'v1.1.0'], done: [], installed: '1.1.0' }, { error: 'input' });
  add('two steps of equal precedence: refused', { steps: ['1.0.0', '1.0.0+b'], done: [], installed: '1.0.0' }, { error: 'input' });
  add('an installed version that is not SemVer 2.0.0: refused', { steps: ['1.0.0'], done: [], installed: 'latest' }, { error: 'input' });
  return {
    name: 'run-once.json',
    description:
      'run-once: the app\'s `steps` (versions), the versions its record says are `done`, and the `installed` content version → { ran, done } (the steps run now, in order, and the record afterwards); with `fails`, that step throws: the run stops there → { ran, done, error: "step" }; a version that is not SemVer 2.0.0, or two steps of equal precedence → { error: "input" } before anything runs.',
    cases,
  };
}
