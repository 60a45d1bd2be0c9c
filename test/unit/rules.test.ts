import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { configSchema, describeIssues } from '../../src/config/schema.js';
import { assertStillServable, buildRules, parseRollout } from '../../src/release/rules.js';

describe('parseRollout', () => {
  it.each([
    ['0', 0],
    ['100', 100],
    ['10', 10],
    ['12.5%', 12.5],
    ['99.99', 99.99],
    ['05', 5],
    [7, 7],
  ])('reads %s as %s', (value, percent) => expect(parseRollout(value)).toBe(percent));

  // Number() takes all of these; a typo must not become a different share.
  it.each(['101', '-1', '100.01', 'abc', '', ' ', 'NaN', 'Infinity', '0x10', '1e1', '12.345', '33.333', '+5', '.5', '5.', 12.345])('refuses %j', (value) => {
    expect(() => parseRollout(value)).toThrow(UserError);
    expect(() => parseRollout(value)).toThrow(/outside 0–100/);
  });
});

describe('buildRules', () => {
  it('serves everyone, not mandatory, by default', () => {
    expect(buildRules({}, {})).toEqual({ rollout: 100, rolloutBasisPoints: 10_000, mandatory: false });
  });

  it('turns flags into stored rules: platforms lowercased, dates in UTC ISO form', () => {
    expect(
      buildRules(
        {
          platform: 'iOS, android',
          appVersion: '>=2.0.0 <3',
          rollout: '25',
          startsAt: '2026-01-01T10:00:00+02:00',
          endsAt: '2026-02-01',
          mandatory: true,
          attr: 'region=eu, locale=de',
          whitelist: 'qa,staff',
        },
        {},
      ),
    ).toEqual({
      platforms: ['ios', 'android'],
      appVersion: '>=2.0.0 <3',
      rollout: 25,
      rolloutBasisPoints: 2500,
      startsAt: '2026-01-01T08:00:00.000Z',
      endsAt: '2026-02-01T00:00:00.000Z',
      mandatory: true,
      attributes: { region: 'eu', locale: 'de' },
      whitelist: ['qa', 'staff'],
    });
  });

  it('overlays flags on a named preset', () => {
    const presets = { beta: { rollout: 5, platforms: ['ios'], mandatory: true, whitelist: ['qa'] } };
    expect(buildRules({ rules: 'beta', rollout: '20' }, presets)).toEqual({
      rollout: 20,
      rolloutBasisPoints: 2000,
      platforms: ['ios'],
      mandatory: true,
      whitelist: ['qa'],
    });
  });

  it.each([
    ['an unknown preset', { rules: 'gamma' }, /unknown rule preset 'gamma'; use one of: beta/],
    ['an invalid semver range', { appVersion: 'two point oh' }, /not a valid semver range/],
    ['a rollout above 100', { rollout: '150' }, /outside 0–100/],
    ['a date that is not ISO-8601', { startsAt: 'tomorrow' }, /--starts-at 'tomorrow' is not an ISO-8601 date/],
    ['a date in American order', { endsAt: '12/01/2026' }, /--ends-at .* is not an ISO-8601 date/],
    ['a time without a UTC offset', { startsAt: '2026-01-01T00:00:00' }, /--starts-at '2026-01-01T00:00:00' has no UTC offset; add Z or ±hh:mm/],
    ['a time with a space and no offset', { endsAt: '2026-01-01 10:00' }, /--ends-at '2026-01-01 10:00' has no UTC offset/],
    ['a day the month does not have', { startsAt: '2026-02-30T00:00:00Z' }, /not an ISO-8601 date/],
    ['a month that does not exist', { startsAt: '2026-13-01' }, /not an ISO-8601 date/],
    ['reversed dates', { startsAt: '2026-02-01T00:00:00Z', endsAt: '2026-01-01T00:00:00Z' }, /is not after --starts-at/],
    ['an empty window', { startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-01-01T00:00:00Z' }, /is not after --starts-at/],
    ['an attribute without a value', { attr: 'region' }, /not key=value/],
    ['an attribute given twice', { attr: 'region=eu, region=us' }, /--attr gives 'region' twice; give each attribute once/],
    ['an empty app-version range (it matches every device)', { appVersion: '' }, /--app-version '' matches every app version/],
    ['an empty platform list', { platform: '' }, /--platform '' names nothing/],
    ['a platform twice', { platform: 'ios,iOS' }, /--platform gives 'ios' twice/],
    ['an empty whitelist list', { whitelist: ' , ' }, /--whitelist ' , ' names nothing/],
    ['a whitelist twice', { whitelist: 'qa,qa' }, /--whitelist gives 'qa' twice/],
    ['an attribute with an empty value', { attr: 'region=' }, /--attr 'region=' has no value/],
    ['an empty attribute list', { attr: '' }, /--attr '' names no attribute/],
  ])('refuses %s with a UserError', (_, flags, message) => {
    const attempt = () => buildRules(flags, { beta: { rollout: 5 } });
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(message);
  });
});

describe('assertStillServable', () => {
  it('refuses a new release whose window has closed, and lets one that ends later through', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    expect(() => assertStillServable({ rollout: 100, mandatory: false, endsAt: '2026-05-31T23:59:59.000Z' }, now)).toThrow(/--ends-at 2026-05-31T23:59:59\.000Z is in the past: the release would never be served/);
    expect(() => assertStillServable({ rollout: 100, mandatory: false, endsAt: '2026-06-02T00:00:00.000Z' }, now)).not.toThrow();
    expect(() => assertStillServable({ rollout: 100, mandatory: false }, now)).not.toThrow();
  });
});

describe('rule presets in the config', () => {
  const presetOf = (rules: Record<string, unknown>) => configSchema.safeParse({ packages: { maps: { dir: 'maps' } }, rules: { r: rules } });

  it('takes times as the flags do, stored in UTC ISO form', () => {
    const parsed = presetOf({ startsAt: '2027-01-01', endsAt: '2027-01-02T10:00:00+02:00', rollout: 12.5 });
    expect(parsed.success).toBe(true);
    expect(parsed.data!.rules.r).toEqual({ startsAt: '2027-01-01T00:00:00.000Z', endsAt: '2027-01-02T08:00:00.000Z', rollout: 12.5 });
  });

  it.each([
    ['a time without a UTC offset', { startsAt: '2027-01-01T00:00:00' }, "rules.r.startsAt: '2027-01-01T00:00:00' has no UTC offset; add Z or ±hh:mm"],
    ['a day the month does not have', { endsAt: '2027-02-30' }, "rules.r.endsAt: '2027-02-30' is not an ISO-8601 date"],
    ['a rollout with three decimals', { rollout: 12.345 }, 'rules.r.rollout: rollout must be 0–100 with at most two decimals'],
    ['a window that ends before it starts', { startsAt: '2027-02-01', endsAt: '2027-01-01' }, 'rules.r.endsAt: endsAt must be after startsAt'],
    ['an empty app-version range', { appVersion: '' }, 'rules.r.appVersion: appVersion "" would match every app version'],
    ['an empty platform list', { platforms: [] }, 'rules.r.platforms: platforms must name at least one platform'],
    ['a platform twice', { platforms: ['ios', 'ios'] }, 'rules.r.platforms: platforms lists a platform twice'],
    ['an attribute with an empty value', { attributes: { region: '' } }, 'rules.r.attributes.region: attribute values must not be empty'],
  ])('refuses %s at load, naming the field', (_, rules, message) => {
    const parsed = presetOf(rules);
    expect(parsed.success).toBe(false);
    expect(describeIssues(parsed.error!)).toContain(message);
  });
});
