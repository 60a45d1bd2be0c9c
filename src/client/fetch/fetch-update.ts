import { rm, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { findRelease } from '../../protocol/channel-index.js';
import { assertIndexFresh, rememberIndex } from '../../protocol/freshness.js';
import type { ChannelIndex, FilePatch, Manifest, StoredObject } from '../../protocol/types.js';
import { resolveUpdate, type DeviceRequest, type ResolveReason, type WhitelistLookup } from '../resolve.js';
import { buildTree, type TreePackage } from './build-tree.js';
import { readChannelIndex, readReleaseManifest, type TrustedKeys } from './documents.js';
import { assertDecryptable, downloadPackage } from './download.js';
import { markerAfterCheck, readInstallState, updateInstallState, writeInstallState, type InstallState } from './install-state.js';
import { sameVersion } from '../rule-match.js';
import { installChoices, nextChoice, type AttemptFailure, type PackageChoice } from '../install-order.js';
import { DamagedBaseError, IntegrityError, ProtocolError } from '../errors.js';
import type { UpdateSource } from './source.js';
import { watchedSource } from './watched-source.js';
import { makeStagingDir, recoverInterruptedSwap, swapInto } from './swap.js';
import { whitelistsOfDevice } from './whitelist-membership.js';
import { ReceiptReporter } from '../receipts/reporter.js';
import { previousInstallPath } from '../receipts/device-state.js';
import { acceptTrustedRoot, followRootChain, MAX_ROOT_BYTES, newerRoot, roleTrust } from '../../protocol/root.js';
import { INSTALL_STATE_FILE } from './install-state.js';

export interface FetchOptions {
  source: UpdateSource;
  channel: string;
  package: string;
  /** What the device tells resolve; the installed version is read from intoDir. */
  device?: Omit<DeviceRequest, 'package' | 'installed'>;
  intoDir: string;
  /** Trusted signing keys: with any, every index and manifest must carry a valid signature. */
  publicKeys?: TrustedKeys;
  /**
   * The root the app ships (root/<N>.root.json as parsed JSON): the chain is
   * followed from it (or from a newer one the install state remembers), and
   * documents must be signed by the newest root's signing keys at its threshold.
   */
  root?: unknown;
  /** Package encryption keys (several during a rotation); the manifest's key id picks one. */
  decryptionKeys?: readonly Buffer[];
  /** Whitelist membership; by default read from the source as a device would. */
  isWhitelisted?: WhitelistLookup;
  /** When expiry and time windows are evaluated (default: now). */
  now?: Date;
  /** The most read of the channel index (default 16 MiB). */
  maxIndexBytes?: number;
  /** Apply binary patches (patched deltas) when the channel offers them. Default false, as resolveUpdate. */
  patches?: boolean;
  /** Aborted (Ctrl-C): reads and downloads stop, intoDir stays as it was. */
  signal?: AbortSignal;
  /** Called when the channel index is signed but no trusted key was given, so nothing is checked against a key. */
  onUncheckedSignatures?: () => void;
  /** Bytes downloaded of the package object, then bytes written of the new tree, as they go. */
  onProgress?: (progress: FetchProgress) => void;
  /** Sends one receipt (PROTOCOL.md §18); by default a GET with a 5 s timeout. */
  sendReceipt?: (url: string) => Promise<boolean>;
}

export interface FetchProgress {
  stage: 'downloading' | 'installing';
  version: string;
  doneBytes: number;
  totalBytes: number;
}

export interface FetchResult {
  package: string;
  channel: string;
  updated: boolean;
  /** Installed in intoDir after the call (null: nothing installed). */
  version: string | null;
  previousVersion: string | null;
  kind: 'full' | 'delta' | null;
  /** Installed through a patched delta (false after falling back to the file-level delta or the full package). */
  patched: boolean;
  /** Packages tried first that failed a check, and why (a patched delta, then a delta, gave way). */
  fallbacks: { key: string; problem: string }[];
  bytesDownloaded: number;
  mandatory: boolean;
  reason: ResolveReason;
}

export type { ResolveReason };

/**
 * Brings intoDir to the release the channel serves this device: resolve,
 * download, check (signatures, SHA-256, sizes, every file), decrypt, then
 * swap the new tree in whole. On any failure intoDir is left exactly as it
 * was and the error names the object and the problem.
 */
const releaseRules = (index: ChannelIndex, packageId: string) => (index.packages[packageId]?.releases ?? []).map((release) => release.rules);

export async function fetchUpdate(options: FetchOptions): Promise<FetchResult> {
  const { channel } = options;
  const source = watchedSource(options.source, options.signal);
  const packageId = options.package;
  const dir = resolve(options.intoDir);
  await recoverInterruptedSwap(dir);
  const state = await readInstallState(dir, packageId);
  // A trust-only marker (version null) remembers the channel with nothing installed.
  const installed = state?.version != null ? { ...state, version: state.version } : undefined;
  const now = options.now ?? new Date();
  const root = options.root === undefined ? undefined : await currentRoot(source, options.root, state?.root, now);
  const publicKeys = root ? roleTrust(root.root, 'signing') : options.publicKeys;
  const { index, signed, carriesSignatures } = await readChannelIndex(source, channel, publicKeys, options.maxIndexBytes);
  if (carriesSignatures && !signed) options.onUncheckedSignatures?.();
  assertIndexFresh(index, { now, signed, remembered: state?.trust });
  const trust = rememberIndex(index, signed, state?.trust);
  // The newest root accepted is remembered with the channel's trust: the next run never starts from an older one.
  const rememberedRoot = root?.document ?? state?.root;
  const withRoot = (next: InstallState): InstallState => (rememberedRoot === undefined ? next : { ...next, root: rememberedRoot });
  const deviceId = options.device?.deviceId;
  const isWhitelisted = options.isWhitelisted ?? (await whitelistsOfDevice(source, releaseRules(index, packageId), deviceId, publicKeys, index.whitelists));
  const resolution = resolveUpdate(
    index,
    { ...options.device, now, package: packageId, installed: installed?.version, patches: options.patches ?? false },
    isWhitelisted,
  );
  const result = {
    package: packageId,
    channel,
    previousVersion: installed?.version ?? null,
    mandatory: resolution.mandatory,
    reason: resolution.reason as FetchResult['reason'],
  };
  // Receipts and the crash-loop guard, when the publisher asks for them (index `receipts`).
  const reporter = index.receipts ? await ReceiptReporter.open(dir) : undefined;
  reporter?.configure(index.receipts, source.baseUrl);
  const about = {
    ch: channel,
    pkg: packageId,
    from: installed?.version ?? 'none',
    pf: options.device?.platform,
    av: options.device?.appVersion,
    ...(index.version !== undefined && { iv: index.version }),
  };
  if (resolution.update && reporter?.state.failed.includes(resolution.version!)) {
    await reporter.finish(options.sendReceipt);
    return { ...result, reason: 'failed-on-device', updated: false, version: installed?.version ?? null, kind: null, patched: false, fallbacks: [], bytesDownloaded: 0 };
  }
  if (!resolution.update) {
    await reporter?.finish(options.sendReceipt);
    // Nothing to install, but the channel's trust moved on: remember it (in a trust-only marker when nothing is installed), or a mirror could turn it back.
    const marker = markerAfterCheck(state, packageId, channel, trust) ?? (state && JSON.stringify(state.root) !== JSON.stringify(rememberedRoot) ? state : null);
    if (marker) await updateInstallState(dir, withRoot(marker));
    return { ...result, updated: false, version: installed?.version ?? null, kind: null, patched: false, fallbacks: [], bytesDownloaded: 0 };
  }

  const version = resolution.version!;
  reporter?.report({ e: 'check', ...about, rel: version });
  let stage: 'download' | 'apply' = 'download';
  try {
    const installedResult = await installRelease(version, (next) => (stage = next));
    reporter?.report({ e: 'applied', ...about, rel: version, k: installedResult.patched ? 'patched' : installedResult.kind!, sz: installedResult.bytesDownloaded });
    await reporter?.finish(options.sendReceipt);
    return installedResult;
  } catch (error) {
    if (reporter && !(error instanceof Error && error.name === 'AbortError') && !options.signal?.aborted) {
      const event = error instanceof IntegrityError ? 'verify_failed' : stage === 'download' ? 'download_failed' : 'apply_failed';
      reporter.report({ e: event, ...about, rel: version, rc: (error as Error).name || 'error' });
      await reporter.finish(options.sendReceipt).catch(() => undefined);
    }
    throw error;
  }

  async function installRelease(version: string, onStage: (stage: 'download' | 'apply') => void): Promise<FetchResult> {
    const manifest = await readReleaseManifest(source, packageId, findRelease(index, packageId, version)!);
    assertDecryptable(manifest, options.decryptionKeys);
    const delta = resolution.kind === 'delta' ? manifest.deltas.find((candidate) => sameVersion(candidate.from, installed?.version)) : undefined;
    await assertFreeSpace(dir, manifest, delta ?? manifest.full);

    const treeBytes = manifest.files.reduce((sum, file) => sum + file.size, 0);
    // Guarded: the previous copy stays until the app confirms the new one (rollbackIfUnconfirmed restores it).
    // An update over an unconfirmed one keeps the confirmed copy as the one to go back to.
    const unconfirmed = reporter?.state.pending;
    const keepsPrevious = Boolean(reporter && !unconfirmed);
    const staging = await makeStagingDir(dir);
    try {
      const tree = join(staging, 'tree');
      let bytesDownloaded = 0;
      const objects: Record<PackageChoice, InstallAttempt | undefined> = {
        patched: delta?.patched ? { kind: 'delta', object: delta.patched, base: dir, patches: delta.patched.patches } : undefined,
        delta: delta ? { kind: 'delta', object: delta, base: dir } : undefined,
        full: { kind: 'full', object: manifest.full },
      };
      const report = (stage: FetchProgress['stage'], totalBytes: number) => {
        let doneBytes = 0;
        options.onProgress?.({ stage, version, doneBytes, totalBytes });
        return (bytes: number) => options.onProgress?.({ stage, version, doneBytes: (doneBytes += bytes), totalBytes });
      };
      const install = async (choice: PackageChoice) => {
        const { object, base, patches } = objects[choice]!;
        onStage('download');
        const { zipPath, bytes } = await downloadPackage(source, manifest, object, join(staging, choice), options.decryptionKeys, report('downloading', object.size));
        bytesDownloaded += bytes;
        onStage('apply');
        // Links share files with the installed copy: only when that copy is deleted after the swap, never when it is kept to go back to.
        const treePackage: TreePackage = base ? { kind: 'delta', zipPath, objectKey: object.key, baseDir: base, patches, linkUnchanged: !keepsPrevious } : { kind: 'full', zipPath, objectKey: object.key };
        await buildTree(manifest, treePackage, tree, report('installing', treeBytes));
      };
      const choices = installChoices(delta ? 'delta' : 'full', Boolean(delta?.patched && resolution.patched));
      const fallbacks: FetchResult['fallbacks'] = [];
      const used = objects[await installFirstThatWorks(choices, install, tree, (choice, error) => fallbacks.push({ key: objects[choice]!.object.key, problem: error.message }))]!;
      await writeInstallState(tree, withRoot({ package: packageId, version, channel, installedAt: new Date().toISOString(), trust }));
      await swapInto(dir, tree, keepsPrevious ? previousInstallPath(dir) : undefined);
      if (reporter) {
        const previousVersion = unconfirmed ? unconfirmed.previousVersion : (installed?.version ?? null);
        reporter.state.pending = { package: packageId, channel, version, previousVersion, starts: 0, ...(index.version !== undefined && { iv: index.version }) };
      }
      return { ...result, updated: true, version, kind: used.kind, patched: used.patches !== undefined, fallbacks, bytesDownloaded };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}

/**
 * The root to check documents with: the shipped one, or the newer one the
 * install state remembers (never an older one), followed along the store's
 * chain (root/<N+1>.root.json until there is none).
 */
async function currentRoot(source: UpdateSource, shipped: unknown, remembered: unknown, now: Date) {
  const trusted = acceptTrustedRoot(shipped, 'the root given (--root)', 'input');
  const known = remembered === undefined ? undefined : acceptTrustedRoot(remembered, `the root remembered in ${INSTALL_STATE_FILE}`);
  const start = newerRoot(trusted, known);
  const read = async (key: string) => {
    const body = await source.readDocument(key, MAX_ROOT_BYTES);
    if (!body) return null;
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new IntegrityError(key, 'is not valid JSON: it was altered or damaged');
    }
  };
  return followRootChain(start, start === trusted ? shipped : remembered, read, now);
}

/** One way to build the new tree: a package object, over the installed copy for a delta, with patches for a patched delta. */
interface InstallAttempt {
  kind: 'full' | 'delta';
  object: StoredObject;
  base?: string;
  patches?: FilePatch[];
}

/**
 * Tries the packages in the order §10.3 gives (install-order.ts), each into a
 * fresh tree, and returns the one that worked; the last failure is thrown.
 */
async function installFirstThatWorks(
  choices: PackageChoice[],
  install: (choice: PackageChoice) => Promise<void>,
  tree: string,
  onFallback: (choice: PackageChoice, error: Error) => void,
): Promise<PackageChoice> {
  for (let choice: PackageChoice | null = choices[0]!; ; ) {
    try {
      await install(choice);
      return choice;
    } catch (error) {
      const next = nextChoice(choices, choice, failureOf(error));
      if (!next) throw error;
      onFallback(choice, error as Error);
      await rm(tree, { recursive: true, force: true });
      choice = next;
    }
  }
}

const failureOf = (error: unknown): AttemptFailure =>
  error instanceof DamagedBaseError ? 'damaged-base' : error instanceof IntegrityError ? 'bad-package' : 'other';

/**
 * Refuses before any download when the folder's disk cannot hold the package
 * object, its decrypted copy and the tree the manifest describes: a manifest
 * may declare any size, and a full disk must not be found half-way.
 */
async function assertFreeSpace(dir: string, manifest: Manifest, object: StoredObject): Promise<void> {
  const tree = manifest.files.reduce((sum, file) => sum + file.size, 0);
  const needed = tree + object.size * (manifest.encryption ? 2 : 1);
  // The folder (and its parent) may not exist yet: the nearest existing folder is on the same disk.
  let existing = dirname(dir);
  while (!(await stat(existing).catch(() => null)) && dirname(existing) !== existing) existing = dirname(existing);
  const disk = await statfs(existing).catch(() => null);
  if (!disk) return;
  const free = disk.bavail * disk.bsize;
  if (needed > free) {
    throw new ProtocolError(
      `${manifest.id}@${manifest.version} needs ${needed} bytes in ${dirname(dir)} (package and files), but only ${free} are free; free space or install elsewhere`,
    );
  }
}
