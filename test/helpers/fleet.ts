/**
 * A seeded fleet of devices that install releases and report receipts the
 * way the clients do, written as CloudFront standard log files: index GETs
 * between receipts, resent (duplicate) receipts, malformed lines, and log
 * files delivered an hour late. The same seed, the same logs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inRollout } from '../../src/protocol/rollout.js';
import type { Receipt } from '../../src/protocol/receipts.js';
import { gzipLog, logFileName, receiptLine, type LoggedLine } from './cloudfront-logs.js';
import { seededRandom } from './seeded-random.js';

const HOUR = 3_600_000;

export interface FleetRelease {
  package: string;
  version: string;
  /** Share of launches that fail (0.003 is 0.3 %). */
  failureRate: number;
}

export interface ServedState {
  rollout: number;
  state: string;
}

export interface FleetOptions {
  devices: number;
  seed: number;
  channel: string;
  logDir: string;
  /** Chance a device opens the app (checks for updates) in an hour. */
  checksPerHour?: number;
  /** Share of receipts sent twice (a retry after a lost reply). */
  duplicateRate?: number;
  /** Share of lines that are malformed receipts. */
  malformedRate?: number;
  /** Share of hours whose log file arrives an hour late. */
  lateRate?: number;
}

export class Fleet {
  private readonly random: () => number;
  /** Per package: the devices that installed the release. */
  private readonly installed = new Map<string, Set<number>>();
  /** Log files held back, written at the next hour. */
  private late: { name: string; lines: LoggedLine[] }[] = [];
  private eventCounter = 0;
  linesWritten = 0;

  constructor(private readonly options: FleetOptions) {
    this.random = seededRandom(options.seed);
  }

  /**
   * One hour of the fleet from `hour` (ms): devices open the app, fetch the
   * index, install the release when the rollout includes them (check,
   * download_ok, applied), then launch (launch_ok, or launch_failed and
   * rolled_back for a failing one). Writes the hour's log file (maybe late).
   */
  async simulateHour(hour: number, releases: FleetRelease[], served: (release: FleetRelease) => ServedState): Promise<void> {
    const { devices, channel } = this.options;
    const checks = this.options.checksPerHour ?? 0.5;
    const lines: LoggedLine[] = [];
    const at = () => hour + Math.floor(this.random() * HOUR);
    const emit = (receipt: Omit<Receipt, 'eid' | 'ch'>, time: number) => {
      const full: Receipt = { ...receipt, ch: channel, eid: `e${(this.eventCounter++).toString(36)}-${Math.floor(this.random() * 1e9).toString(36)}` };
      lines.push(receiptLine(full, time));
      if (this.random() < (this.options.duplicateRate ?? 0.02)) lines.push(receiptLine(full, Math.min(hour + HOUR - 1, time + 60_000)));
      if (this.random() < (this.options.malformedRate ?? 0.002)) lines.push({ at: time, path: '/r/v1', query: `e=launch_ok&pkg=${receipt.pkg}&iid=${receipt.iid}` });
    };
    for (let device = 0; device < devices; device++) {
      if (this.random() >= checks) continue;
      const time = at();
      lines.push({ at: time, path: `/channels/${channel}/index.json`, query: '' });
      for (const release of releases) {
        const state = served(release);
        const done = this.installed.get(release.package) ?? new Set<number>();
        this.installed.set(release.package, done);
        if (done.has(device) || state.state !== 'active' || !inRollout(`device-${device}`, release.package, release.version, state.rollout)) continue;
        done.add(device);
        const base = { pkg: release.package, rel: release.version, from: 'none', pf: device % 2 ? 'ios' : 'android', av: '2.1.0', iid: `iid-${device}` };
        emit({ ...base, e: 'check' }, time);
        emit({ ...base, e: 'download_ok', k: 'full', sz: 4096 }, time + 1000);
        emit({ ...base, e: 'applied' }, time + 2000);
        const launch = Math.min(hour + HOUR - 1, time + 5000);
        if (this.random() < release.failureRate) {
          emit({ ...base, e: 'launch_failed', rc: 'crash' }, launch);
          if (this.random() < 0.5) emit({ ...base, e: 'rolled_back' }, launch + 1);
        } else {
          emit({ ...base, e: 'launch_ok' }, launch);
        }
      }
    }
    lines.sort((a, b) => a.at - b.at);
    this.linesWritten += lines.length;
    await mkdir(this.options.logDir, { recursive: true });
    const held = this.late;
    this.late = [];
    for (const file of held) await writeFile(join(this.options.logDir, file.name), gzipLog(file.lines));
    const name = logFileName(hour, `h${hour / HOUR}`);
    if (this.random() < (this.options.lateRate ?? 0.2)) this.late.push({ name, lines });
    else await writeFile(join(this.options.logDir, name), gzipLog(lines));
  }

  installs(packageId: string): number {
    return this.installed.get(packageId)?.size ?? 0;
  }
}
