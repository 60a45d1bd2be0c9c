import { describe, expect, it } from 'vitest';
import { resolveSwitches } from '../../src/client/switches.js';
import { UserError } from '../../src/errors.js';
import { IntegrityError } from '../../src/protocol/errors.js';
import { documentFreshnessProblem } from '../../src/protocol/freshness.js';
import { emptySwitches, parseSwitches, type SwitchesDocument } from '../../src/protocol/switches.js';
import { parseSwitchValue, removeSwitch, restoreSwitches, setSwitch } from '../../src/release/switch-operations.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const devices = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);

/** A production document with these switches. */
const withSwitches = (switches: SwitchesDocument['switches']): SwitchesDocument => ({ ...emptySwitches('production'), version: 3, switches });
const share = (document: SwitchesDocument, key: string, value: unknown) =>
  devices.filter((deviceId) => resolveSwitches(document, { deviceId, now: NOW }).values[key] === value).length / devices.length;

describe('resolveSwitches', () => {
  const document = withSwitches({
    newCheckout: {
      type: 'boolean',
      default: false,
      variants: [
        { value: true, rules: { rollout: 100, platforms: ['ios'], appVersion: '>=2.0.0' } },
        { value: true, rules: { rollout: 0, whitelist: ['qa'] } },
      ],
    },
    theme: { default: 'plain', variants: [{ value: 'winter', rules: { rollout: 100, startsAt: '2026-12-01T00:00:00.000Z', endsAt: '2027-01-07T00:00:00.000Z' } }] },
    limits: { default: { max: 3 }, variants: [{ value: { max: 9 }, rules: { rollout: 100, attributes: { tier: 'gold' } } }] },
  });

  it('gives every key: the first variant whose rules match, else the default, and says which', () => {
    const ios = resolveSwitches(document, { platform: 'ios', appVersion: '2.1.0', deviceId: 'd1', now: NOW });
    expect(ios.values).toEqual({ newCheckout: true, theme: 'plain', limits: { max: 3 } });
    expect(ios.reasons).toEqual({ newCheckout: { source: 'variant', variant: 1 }, theme: { source: 'default' }, limits: { source: 'default' } });
    const oldAndroid = resolveSwitches(document, { platform: 'android', appVersion: '1.0.0', deviceId: 'd1', now: NOW });
    expect(oldAndroid.values.newCheckout).toBe(false);
  });

  it('evaluates time windows, attributes and whitelists as package rules do', () => {
    const winter = resolveSwitches(document, { now: new Date('2026-12-24T00:00:00Z'), attributes: { tier: 'gold' } });
    expect(winter.values).toMatchObject({ theme: 'winter', limits: { max: 9 } });
    const qa = resolveSwitches(document, { platform: 'android', deviceId: 'qa-1', now: NOW }, (list, id) => list === 'qa' && id === 'qa-1');
    expect(qa.reasons.newCheckout).toEqual({ source: 'variant', variant: 2 });
  });

  it('holds a percentage within ±1 % over 10,000 devices, and raising it only adds devices', () => {
    const at = (rollout: number) => withSwitches({ flag: { default: false, variants: [{ value: true, rules: { rollout } }] } });
    const served = (rollout: number) => new Set(devices.filter((deviceId) => resolveSwitches(at(rollout), { deviceId }).values.flag === true));
    for (const rollout of [1, 10, 25, 50, 90]) expect(Math.abs(served(rollout).size / devices.length - rollout / 100)).toBeLessThanOrEqual(0.01);
    const ten = served(10);
    const fifty = served(50);
    expect([...ten].every((id) => fifty.has(id))).toBe(true);
  });

  it('salts buckets per key: two 10 % switches select different devices', () => {
    const tenPercent = { default: false, variants: [{ value: true, rules: { rollout: 10 } }] };
    const both = withSwitches({ a: tenPercent, b: tenPercent });
    const inA = new Set(devices.filter((deviceId) => resolveSwitches(both, { deviceId }).values.a === true));
    const inBoth = devices.filter((deviceId) => inA.has(deviceId) && resolveSwitches(both, { deviceId }).values.b === true);
    expect(share(both, 'a', true)).toBeCloseTo(0.1, 1);
    // Independent 10 % draws overlap on about 1 % of devices; the same draw would overlap on all 10 %.
    expect(inBoth.length / devices.length).toBeLessThan(0.02);
  });
});

describe('switch edits', () => {
  const empty = emptySwitches('production');

  it('sets a default first, then targeted variants; the same rules replace a variant in place', () => {
    const first = setSwitch(empty, 'newCheckout', false, { type: 'boolean' });
    expect(first).toMatchObject({ variant: null, previous: null });
    const ios = setSwitch(first.document, 'newCheckout', true, { rules: { rollout: 10, platforms: ['ios', 'ipados'] } });
    const android = setSwitch(ios.document, 'newCheckout', true, { rules: { rollout: 5, platforms: ['android'] } });
    expect(android.variant).toBe(2);
    // The same conditions in another order are the same variant.
    const replaced = setSwitch(android.document, 'newCheckout', false, { rules: { platforms: ['ipados', 'ios'], rollout: 10 } });
    expect(replaced).toMatchObject({ variant: 1, previous: true });
    expect(replaced.document.switches.newCheckout.variants.map((variant) => variant.value)).toEqual([false, true]);
    // A variant is its conditions: another rollout of the same conditions rolls it out further, in place.
    const raised = setSwitch(replaced.document, 'newCheckout', false, { rules: { rollout: 50, rolloutBasisPoints: 5000, platforms: ['ios', 'ipados'] } });
    expect(raised).toMatchObject({ variant: 1, previous: false, previousRules: { rollout: 10 } });
    expect(raised.document.switches.newCheckout.variants.map((variant) => variant.rules.rollout)).toEqual([50, 5]);
  });

  it('fixes the type at the first set and refuses a value of another type, a changed type and a no-op', () => {
    const typed = setSwitch(empty, 'retries', 3, { type: 'number' }).document;
    expect(() => setSwitch(typed, 'retries', '3')).toThrow(/is a string, but switch 'retries' is of type number/);
    expect(() => setSwitch(typed, 'retries', 4, { type: 'string' })).toThrow(/its type cannot change/);
    expect(setSwitch(typed, 'retries', 3).unchanged).toMatch(/nothing to change/);
    expect(() => setSwitch(empty, 'flag', 'yes', { type: 'boolean' })).toThrow(UserError);
    expect(() => setSwitch(empty, 'config', { a: 1 }, { type: 'json' })).not.toThrow();
  });

  it('refuses a variant before the key has a default, and an invalid key', () => {
    expect(() => setSwitch(empty, 'flag', true, { rules: { rollout: 10 } })).toThrow(/has no default value yet/);
    expect(() => setSwitch(empty, 'bad:key', true)).toThrow(/not valid/);
  });

  it('removes a key or one numbered variant; an unknown key or variant names what there is', () => {
    const document = setSwitch(setSwitch(empty, 'flag', false).document, 'flag', true, { rules: { rollout: 10 } }).document;
    expect(removeSwitch(document, 'flag', 1).document.switches.flag.variants).toEqual([]);
    expect(removeSwitch(document, 'flag').document.switches).toEqual({});
    expect(() => removeSwitch(document, 'nope')).toThrow(/unknown switch 'nope' on channel 'production'; switches: flag/);
    expect(() => removeSwitch(document, 'flag', 2)).toThrow(/variant 1 only/);
  });

  it('restores the switches of an earlier version', () => {
    const v1 = { ...setSwitch(empty, 'flag', false).document, version: 1 };
    const v2 = { ...setSwitch(v1, 'flag', true).document, version: 2 };
    expect(restoreSwitches(v2, v1).switches).toEqual(v1.switches);
  });

  it('reads <value> as JSON, refusing text that is not', () => {
    expect(parseSwitchValue('{"max":3}')).toEqual({ max: 3 });
    expect(parseSwitchValue('"blue"')).toBe('blue');
    expect(() => parseSwitchValue('blue')).toThrow(/value 'blue' is not JSON/);
  });
});

describe('parseSwitches', () => {
  const body = (document: unknown) => Buffer.from(JSON.stringify(document));
  const key = 'channels/production/switches.json';
  const valid = withSwitches({ flag: { type: 'boolean', default: false, variants: [] } });

  it('reads a document, and refuses one that is damaged, of another channel, or mistyped', () => {
    expect(parseSwitches(body(valid), key, 'production')).toEqual(valid);
    expect(() => parseSwitches(Buffer.from('{'), key, 'production')).toThrow(IntegrityError);
    expect(() => parseSwitches(body(valid), key, 'staging')).toThrow(/names channel 'production', not 'staging'/);
    expect(() => parseSwitches(body({ ...valid, switches: { flag: { type: 'boolean', default: 1, variants: [] } } }), key, 'production')).toThrow(
      /not of the key's type boolean/,
    );
    expect(() => parseSwitches(body({ ...valid, version: 'x' }), key, 'production')).toThrow(/version/);
    expect(() => parseSwitches(body({ ...valid, schemaVersion: 99 }), key, 'production')).toThrow(/upgrade update-publish/);
  });
});

describe('switches freshness', () => {
  const document = { ...withSwitches({}), version: 5, expires: '2026-07-01T00:00:00.000Z' };
  const check = (now: string, remembered?: { channel: string; version: number; signed: boolean }, signed = true) =>
    documentFreshnessProblem(document, 'switches document', { now: new Date(now), signed, remembered })?.reason;

  it('refuses an expired copy, an older version than one accepted, and an unsigned one after a signed one', () => {
    expect(check('2026-06-01T00:00:00Z')).toBeUndefined();
    expect(check('2026-07-01T00:00:00Z')).toBe('expired');
    expect(check('2026-06-01T00:00:00Z', { channel: 'production', version: 6, signed: true })).toBe('rollback');
    expect(check('2026-06-01T00:00:00Z', { channel: 'production', version: 5, signed: true })).toBeUndefined();
    expect(check('2026-06-01T00:00:00Z', { channel: 'production', version: 1, signed: true }, false)).toBe('unsigned');
  });
});
