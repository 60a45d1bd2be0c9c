import semver from 'semver';
import { hash32 } from './rollout.js';
import { NO_PREVIOUS_VERSION, type Receipt, type ReceiptEvent } from './receipts.js';

/**
 * The counting rules of receipts (PROTOCOL.md §18.4), one definition for
 * every source (CloudFront logs, serve's NDJSON; Athena runs the same rules
 * as SQL): a receipt counts once per `eid`; malformed ones are skipped and
 * counted; installs are distinct `iid`s; launches and the failure rate with
 * its 95 % Wilson interval.
 */

export interface HourlyCount {
  /** The hour's start, ISO-8601 UTC. */
  hour: string;
  launches: number;
  failures: number;
}

export interface ReleaseHealth {
  package: string;
  channel: string | null;
  version: string;
  /** The version most devices came from (`from`), null when all were first installs or none said. */
  previousVersion: string | null;
  installs: number;
  checks: number;
  downloads: number;
  downloadFailed: number;
  verifyFailed: number;
  applyFailed: number;
  applied: number;
  launchOk: number;
  launchFailed: number;
  rolledBack: number;
  launches: number;
  /** (launchFailed + rolledBack) / launches; null without launches. */
  failureRate: number | null;
  /** The 95 % Wilson interval of the failure rate (0 and 1 without launches). */
  failureRateLower: number;
  failureRateUpper: number;
  /** The newest receipt's time, ISO-8601; null when none had one. */
  newestAt: string | null;
  hourly: HourlyCount[];
}

export interface HealthReport {
  releases: ReleaseHealth[];
  skipped: { malformed: number; duplicates: number };
}

const EVENT_FIELD: Record<ReceiptEvent, keyof EventCounts> = {
  check: 'checks',
  download_ok: 'downloads',
  download_failed: 'downloadFailed',
  verify_failed: 'verifyFailed',
  apply_failed: 'applyFailed',
  applied: 'applied',
  launch_ok: 'launchOk',
  launch_failed: 'launchFailed',
  rolled_back: 'rolledBack',
};

type EventCounts = Pick<
  ReleaseHealth,
  'checks' | 'downloads' | 'downloadFailed' | 'verifyFailed' | 'applyFailed' | 'applied' | 'launchOk' | 'launchFailed' | 'rolledBack'
>;

/** A launch is the app telling whether it loaded the release: launch_ok, launch_failed, rolled_back. */
export const isLaunch = (event: ReceiptEvent) => event === 'launch_ok' || event === 'launch_failed' || event === 'rolled_back';
/** A failed launch: launch_failed, rolled_back. */
export const isFailure = (event: ReceiptEvent) => event === 'launch_failed' || event === 'rolled_back';

/** By UTF-16 code units, as every language can (no locale). */
const compareUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** z for a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/** Rates are reported to six decimals, so every client and source prints the same figures. */
export const roundRate = (rate: number) => Math.round(rate * 1e6) / 1e6;

/** The 95 % Wilson score interval of `failures` in `trials` ([0, 1] without trials). */
export function wilsonInterval(failures: number, trials: number, z = Z95): { lower: number; upper: number } {
  if (trials <= 0) return { lower: 0, upper: 1 };
  const p = failures / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return { lower: roundRate(Math.max(0, centre - half)), upper: roundRate(Math.min(1, centre + half)) };
}

/** The failure rate and its interval, as health reports them. */
export function failureRateOf(failures: number, launches: number) {
  const { lower, upper } = wilsonInterval(failures, launches);
  return { failureRate: launches > 0 ? roundRate(failures / launches) : null, failureRateLower: lower, failureRateUpper: upper };
}

/**
 * A set of ids kept as 64-bit hashes in one typed array: millions of event
 * ids in tens of MB (a Set of strings would take hundreds). Two ids sharing a
 * hash (odds about n²/2⁶⁵) would count once.
 */
export class HashedIdSet {
  private slots = new Uint32Array(2 * 1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds the id; false when it was there already. */
  add(id: string): boolean {
    let high = hash32(id);
    const low = hash32(`\u0001${id}`);
    if (high === 0 && low === 0) high = 1;
    if ((this.count + 1) * 2 > this.slots.length / 2) this.grow();
    return this.insert(high, low);
  }

  private insert(high: number, low: number): boolean {
    const capacity = this.slots.length / 2;
    let slot = (high ^ Math.imul(low, 0x9e3779b1)) >>> 0;
    for (;;) {
      slot &= capacity - 1;
      const h = this.slots[2 * slot];
      const l = this.slots[2 * slot + 1];
      if (h === 0 && l === 0) {
        this.slots[2 * slot] = high;
        this.slots[2 * slot + 1] = low;
        this.count++;
        return true;
      }
      if (h === high && l === low) return false;
      slot++;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i], old[i + 1]);
  }
}

/** One release's counts, however they were made (streamed here, or by SQL in Athena). */
export interface ReleaseCounts {
  package: string;
  channel: string | null;
  version: string;
  /** Receipts per event, each eid once. */
  events: Partial<Record<ReceiptEvent, number>>;
  installs: number;
  /** Receipts per `from` version (first installs left out). */
  from: Map<string, number>;
  newestAt: number | undefined;
  /** Launches and failures per hour (the hour's start, ms). */
  hourly: Map<number, { launches: number; failures: number }>;
}

interface ReleaseTally extends Omit<ReleaseCounts, 'installs'> {
  installs: HashedIdSet;
}

const HOUR_MS = 3_600_000;

/** Counts receipts as they stream in; `report()` gives the figures. */
export class ReceiptTally {
  private readonly seen = new HashedIdSet();
  private readonly releases = new Map<string, ReleaseTally>();
  private malformed = 0;
  private duplicates = 0;

  /** A receipt line that is not a receipt (bad query): skipped, counted. */
  addMalformed(count = 1): void {
    this.malformed += count;
  }

  /**
   * One receipt; `at` is when it was received (the log's time, ms), else the
   * device time `t` stands in. A second receipt with the same `eid` is a duplicate.
   */
  add(receipt: Receipt, at?: number): boolean {
    if (!this.seen.add(receipt.eid)) {
      this.duplicates++;
      return false;
    }
    const key = `${receipt.pkg}\n${receipt.ch ?? ''}\n${receipt.rel}`;
    let release = this.releases.get(key);
    if (!release) {
      release = {
        package: receipt.pkg,
        channel: receipt.ch ?? null,
        version: receipt.rel,
        events: {},
        installs: new HashedIdSet(),
        from: new Map(),
        newestAt: undefined,
        hourly: new Map(),
      };
      this.releases.set(key, release);
    }
    release.events[receipt.e] = (release.events[receipt.e] ?? 0) + 1;
    release.installs.add(receipt.iid);
    if (receipt.from !== undefined && receipt.from !== NO_PREVIOUS_VERSION) release.from.set(receipt.from, (release.from.get(receipt.from) ?? 0) + 1);
    const time = at ?? receipt.t;
    if (time !== undefined && Number.isFinite(time)) {
      if (release.newestAt === undefined || time > release.newestAt) release.newestAt = time;
      if (isLaunch(receipt.e)) {
        const hour = Math.floor(time / HOUR_MS) * HOUR_MS;
        const bucket = release.hourly.get(hour) ?? { launches: 0, failures: 0 };
        bucket.launches++;
        if (isFailure(receipt.e)) bucket.failures++;
        release.hourly.set(hour, bucket);
      }
    }
    return true;
  }

  report(): HealthReport {
    return sortedReport([...this.releases.values()].map((release) => releaseHealth({ ...release, installs: release.installs.size })), this.malformed, this.duplicates);
  }
}

/** The report with releases by package, channel, then newest version first. */
export function sortedReport(releases: ReleaseHealth[], malformed: number, duplicates: number): HealthReport {
    releases.sort(
      (a, b) =>
        compareUnits(a.package, b.package) ||
        compareUnits(a.channel ?? '', b.channel ?? '') ||
        (semver.valid(a.version) && semver.valid(b.version) ? semver.rcompare(a.version, b.version) : compareUnits(b.version, a.version)),
    );
    return { releases, skipped: { malformed, duplicates } };
}

/** A release's figures from its counts: the rules of launches, failures and the interval in one place. */
export function releaseHealth(release: ReleaseCounts): ReleaseHealth {
  const counts = Object.fromEntries(Object.entries(EVENT_FIELD).map(([event, field]) => [field, release.events[event as ReceiptEvent] ?? 0])) as unknown as EventCounts;
  const launches = counts.launchOk + counts.launchFailed + counts.rolledBack;
  const failures = counts.launchFailed + counts.rolledBack;
  // Ties go to the higher version: the one the release most likely followed.
  const previousVersion =
    [...release.from.entries()].sort(([va, a], [vb, b]) => b - a || (semver.valid(va) && semver.valid(vb) ? semver.rcompare(va, vb) : compareUnits(vb, va)))[0]?.[0] ?? null;
  return {
    package: release.package,
    channel: release.channel,
    version: release.version,
    previousVersion,
    installs: release.installs,
    ...counts,
    launches,
    ...failureRateOf(failures, launches),
    newestAt: release.newestAt === undefined ? null : new Date(release.newestAt).toISOString(),
    hourly: [...release.hourly.entries()].sort(([a], [b]) => a - b).map(([hour, bucket]) => ({ hour: new Date(hour).toISOString(), ...bucket })),
  };
}
