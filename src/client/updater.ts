import type { TrustedKey } from '../protocol/document-signature.js';
import { assertBoundDocument } from '../protocol/document-binding.js';
import { ChannelNotFoundError } from '../protocol/errors.js';
import type { ChannelIndex } from '../protocol/types.js';
import { normalizePlatform } from '../protocol/rule-values.js';
import { assertDocumentFresh, rememberDocument, type DocumentTrust } from '../protocol/freshness.js';
import type { FreshnessFields } from '../protocol/freshness.js';
import { resolveAppUpgrade, type AppDevice, type AppUpgrade } from './app-upgrade.js';
import { readAppReleases, readIndexDocument, readSwitches, whitelistsOfDevice, type DeviceTrust, type DocumentSource } from './read-documents.js';
import { resolveUpdate, type DeviceRequest, type Resolution } from './resolve.js';
import type { DeviceFacts } from './rule-match.js';
import { resolveSwitches, type SwitchResolution } from './switches.js';

/**
 * What a device keeps between checks of each document (its highest version
 * and whether it was signed), so a mirror can never turn the clock back: app
 * storage (AsyncStorage, a file, a database row) behind two calls.
 */
export interface TrustState {
  get(documentKey: string): Promise<DocumentTrust | undefined> | DocumentTrust | undefined;
  set(documentKey: string, trust: DocumentTrust): Promise<void> | void;
}

export interface UpdaterOptions {
  /** Where documents are read: the CDN in front of the store (see `httpDocuments` on Node), or any DocumentSource. */
  from: DocumentSource;
  channel: string;
  /** Public keys the app ships (trustedKeyFromPem): with any, every document must carry a valid signature by one; or a root's signing role (roleTrust) with its threshold. */
  trust?: DeviceTrust;
  /** Remembered versions; without, only expiry protects against a frozen copy. */
  state?: TrustState;
  /** The clock (tests); default: now. */
  now?: () => Date;
}

/** What `check` decided, with the request it answered (install takes both). */
export type Decision = Resolution & { package: string; channel: string; indexVersion: number; request: DeviceRequest };

export interface Updater {
  /** Reads the index (signature → validation → freshness → remember), then resolves the package for this device. */
  check(device: DeviceRequest): Promise<Decision>;
  /** Every switch's value for this device: the index first (accepted as `check` accepts it), then the switches version it names, read the same way. */
  switches(device: DeviceFacts): Promise<SwitchResolution & { channel: string; documentVersion: number }>;
  /** Whether this app binary should (or must) be upgraded: the index first, then the app-releases version it names. */
  appUpgrade(device: AppDevice): Promise<AppUpgrade & { channel: string; documentVersion: number }>;
}

/**
 * The device side in the only safe order, in the spirit of python-tuf's
 * Updater: every document is read within its size limit, its signature
 * checked against `trust`, validated and bound to the channel, refused when
 * older than one accepted before or expired, and only then remembered and
 * evaluated. Pure JavaScript: React Native, browsers and edge runtimes.
 */
export function createUpdater(options: UpdaterOptions): Updater {
  const { from, channel, state } = options;
  const trust = options.trust ?? [];
  const now = () => options.now?.() ?? new Date();

  /** Refused when stale; remembered only once accepted. */
  async function accept(key: string, document: FreshnessFields, signed: boolean, what: string, at: Date): Promise<void> {
    const remembered = await state?.get(key);
    assertDocumentFresh(document, what, { now: at, signed, remembered });
    await state?.set(key, rememberDocument(document, signed, remembered));
  }

  /**
   * The index, read and accepted as `check` reads it, for the switches and
   * app-releases versions it names (PROTOCOL.md §3.1 `documents`); undefined
   * when the channel has none (switches or app releases alone, written before
   * documents were bound): those documents are then read unbound.
   */
  async function readBindingIndex(at: Date): Promise<ChannelIndex | undefined> {
    try {
      const { index, key, signed } = await readIndexDocument(from, channel, trust);
      await accept(key, index, signed, 'index', at);
      return index;
    } catch (error) {
      if (error instanceof ChannelNotFoundError) return undefined;
      throw error;
    }
  }

  return {
    async check(device) {
      const at = device.now ?? now();
      const { index, key, signed } = await readIndexDocument(from, channel, trust);
      await accept(key, index, signed, 'index', at);
      const rules = (index.packages[device.package]?.releases ?? []).map((release) => release.rules);
      const isWhitelisted = await whitelistsOfDevice(from, rules, device.deviceId, trust, index.whitelists);
      const resolution = resolveUpdate(index, { ...device, now: at }, isWhitelisted);
      return { ...resolution, package: device.package, channel, indexVersion: index.version ?? 0, request: device };
    },
    async switches(device) {
      const at = device.now ?? now();
      const index = await readBindingIndex(at);
      const { document, key, signed } = await readSwitches(from, channel, trust);
      if (index) assertBoundDocument(index, 'switches', document, key);
      await accept(key, document, signed, 'switches document', at);
      const rules = Object.values(document.switches).flatMap((entry) => entry.variants.map((variant) => variant.rules));
      // The uploads the index binds (§7): an older list put back is never read.
      const isWhitelisted = await whitelistsOfDevice(from, rules, device.deviceId, trust, index?.whitelists);
      return { channel, documentVersion: document.version, ...resolveSwitches(document, { ...device, now: at }, isWhitelisted) };
    },
    async appUpgrade(device) {
      const at = device.now ?? now();
      const index = await readBindingIndex(at);
      const { document, key, signed } = await readAppReleases(from, channel, trust);
      if (index) assertBoundDocument(index, 'appReleases', document, key);
      await accept(key, document, signed, 'app-releases document', at);
      const rules = (document.platforms[normalizePlatform(device.platform)]?.releases ?? []).map((release) => release.rules);
      const isWhitelisted = await whitelistsOfDevice(from, rules, device.deviceId, trust, index?.whitelists);
      return { channel, documentVersion: document.version, ...resolveAppUpgrade(document, { ...device, now: at }, isWhitelisted) };
    },
  };
}
