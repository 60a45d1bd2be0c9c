import { rename, rm, stat } from 'node:fs/promises';
import { encodeReceiptQuery, installSampled, receiptsEndpoint, reasonCode, type Receipt, type ReceiptsSettings } from '../../protocol/receipts.js';
import { enqueue, hasDeviceState, newId, previousInstallPath, readDeviceState, writeDeviceState, type DeviceState, type PendingInstall } from './device-state.js';

/** A receipt never holds an update up longer than this. */
export const RECEIPT_TIMEOUT_MS = 5_000;
/** App starts without a confirmation before the install is rolled back. */
export const DEFAULT_MAX_UNCONFIRMED_STARTS = 2;

type ReceiptFields = Omit<Receipt, 'iid' | 'eid' | 't'>;

/**
 * Sends the queued receipts, oldest first, each with a short timeout; stops
 * at the first that fails (the endpoint is down: the rest wait for the next
 * run). Never throws.
 */
export async function flushReceipts(state: DeviceState, send: (url: string) => Promise<boolean> = sendReceipt): Promise<void> {
  while (state.queue.length > 0) {
    if (!(await send(state.queue[0].url).catch(() => false))) return;
    state.queue.shift();
  }
}

/** One GET; any answer from the server counts as delivered (the response is ignored). */
export async function sendReceipt(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(RECEIPT_TIMEOUT_MS) });
    await response.body?.cancel().catch(() => undefined);
    return response.status < 500;
  } catch {
    return false;
  }
}

/**
 * The receipts of one fetch (or one launch confirmation): queued with a fresh
 * eid each, then sent with whatever the queue held. Only when the index asks
 * for receipts and this install is sampled.
 */
export class ReceiptReporter {
  private constructor(
    private readonly dir: string,
    readonly state: DeviceState,
  ) {}

  static async open(dir: string): Promise<ReceiptReporter> {
    return new ReceiptReporter(dir, await readDeviceState(dir));
  }

  /** What the channel index says about receipts; `storeBase` resolves a relative URL (no HTTP base: only absolute URLs work). */
  configure(settings: ReceiptsSettings | undefined, storeBase: string | undefined): void {
    if (!settings || typeof settings.url !== 'string') {
      delete this.state.receipts;
      return;
    }
    let endpoint: string | null = null;
    try {
      endpoint = /^https?:\/\//.test(settings.url) ? settings.url : storeBase ? receiptsEndpoint(settings, storeBase) : null;
    } catch {
      endpoint = null;
    }
    this.state.receipts = { endpoint, sampled: installSampled(this.state.iid, typeof settings.sampleRate === 'number' ? settings.sampleRate : undefined) };
  }

  get guarded(): boolean {
    return this.state.receipts !== undefined;
  }

  report(fields: ReceiptFields): void {
    const receipts = this.state.receipts;
    if (!receipts?.sampled || !receipts.endpoint) return;
    const eid = newId();
    const receipt: Receipt = { ...fields, ...(fields.rc !== undefined && { rc: reasonCode(fields.rc) }), iid: this.state.iid, eid, t: Date.now() };
    const separator = receipts.endpoint.includes('?') ? '&' : '?';
    enqueue(this.state, [{ url: `${receipts.endpoint}${separator}${encodeReceiptQuery(receipt)}`, eid }]);
  }

  /** Sends what is queued (never throws, never longer than the timeout per receipt) and keeps the state. */
  async finish(send?: (url: string) => Promise<boolean>): Promise<void> {
    await flushReceipts(this.state, send);
    await writeDeviceState(this.dir, this.state);
  }
}

/** The pending install's receipt fields. */
const aboutPending = (pending: PendingInstall) => ({ ch: pending.channel, pkg: pending.package, rel: pending.version, from: pending.previousVersion ?? 'none', ...(pending.iv !== undefined && { iv: pending.iv }) });

export interface LaunchOptions {
  platform?: string;
  appVersion?: string;
  /** Sends receipts (tests hand in their own). */
  send?: (url: string) => Promise<boolean>;
}

/**
 * The app tells whether it loaded the installed content: `launch_ok` confirms
 * the install (the previous copy is dropped), `launch_failed` is reported and
 * leaves it unconfirmed (rollbackIfUnconfirmed acts on the next start).
 * Returns the release it was about, or null when nothing awaited a confirmation.
 */
export async function markLaunched(intoDir: string, ok: boolean, options: LaunchOptions = {}): Promise<{ version: string } | null> {
  if (!(await hasDeviceState(intoDir))) return null;
  const reporter = await ReceiptReporter.open(intoDir);
  const pending = reporter.state.pending;
  if (!pending) {
    await reporter.finish(options.send);
    return null;
  }
  reporter.report({ e: ok ? 'launch_ok' : 'launch_failed', ...aboutPending(pending), pf: options.platform, av: options.appVersion, ...(!ok && { rc: 'launch' }) });
  if (ok) {
    delete reporter.state.pending;
    await rm(previousInstallPath(intoDir), { recursive: true, force: true });
  }
  await reporter.finish(options.send);
  return { version: pending.version };
}

export interface RollbackResult {
  rolledBack: boolean;
  /** The release given up (rolledBack), or the one still awaiting a confirmation. */
  version: string | null;
  /** What is installed now. */
  restored: string | null;
  starts: number;
}

/**
 * The crash-loop guard, called at every app start before the content is
 * loaded: after `maxStarts` starts (default 2) without a confirmation, the
 * previous install comes back, `rolled_back` is sent for the release that
 * failed, and the release is remembered so this device never installs it again.
 */
export async function rollbackIfUnconfirmed(intoDir: string, options: LaunchOptions & { maxStarts?: number } = {}): Promise<RollbackResult> {
  if (!(await hasDeviceState(intoDir))) return { rolledBack: false, version: null, restored: null, starts: 0 };
  const reporter = await ReceiptReporter.open(intoDir);
  const pending = reporter.state.pending;
  if (!pending) {
    await reporter.finish(options.send);
    return { rolledBack: false, version: null, restored: null, starts: 0 };
  }
  pending.starts += 1;
  if (pending.starts < (options.maxStarts ?? DEFAULT_MAX_UNCONFIRMED_STARTS)) {
    await reporter.finish(options.send);
    return { rolledBack: false, version: pending.version, restored: pending.version, starts: pending.starts };
  }
  const previous = previousInstallPath(intoDir);
  const failedDir = `${intoDir}.update-publish-failed`;
  await rm(failedDir, { recursive: true, force: true });
  if (await stat(intoDir).catch(() => null)) await rename(intoDir, failedDir);
  if (await stat(previous).catch(() => null)) await rename(previous, intoDir);
  await rm(failedDir, { recursive: true, force: true });
  reporter.report({ e: 'rolled_back', ...aboutPending(pending), pf: options.platform, av: options.appVersion, rc: `unconfirmed-${pending.starts}` });
  if (!reporter.state.failed.includes(pending.version)) reporter.state.failed.push(pending.version);
  delete reporter.state.pending;
  await reporter.finish(options.send);
  return { rolledBack: true, version: pending.version, restored: pending.previousVersion, starts: pending.starts };
}
