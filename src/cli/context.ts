import { actorFrom } from '../actor.js';
import { requireKnownChannel } from '../channel/channels.js';
import { ConfigNotFoundError, loadConfig, type LoadedConfig } from '../config/load.js';
import { configuredChannels, defaultConfig, NAME_PATTERN, type Config } from '../config/schema.js';
import { assertWriteEnvironment } from '../config/env-refs.js';
import { UserError } from '../errors.js';
import { openStore } from '../store/open-store.js';
import { dryRunStore } from '../store/dry-run-store.js';
import { interruptibleStore } from '../store/interruptible-store.js';
import { signerFor } from '../keys/publisher-keys.js';
import type { SignerSet } from '../keys/signers.js';
import { assertSignersTrustedByRoot } from '../workflows/keys-root.js';
import { signingStore } from '../store/signing-store.js';
import { unsignedWriteGuard } from '../store/unsigned-write-guard.js';
import type { WorkflowContext } from '../workflows/context.js';
import { confirmOrSkip } from './confirm.js';
import { createOutput, type Output } from './output.js';
import type { Store } from '../store/store.js';
import type { Session } from './session.js';

/** Options every command accepts (commander's optsWithGlobals). */
export interface GlobalOptions {
  config?: string;
  store?: string;
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  allowUnsigned?: boolean;
}

/** Settings the environment gives when the flag is absent (flag over environment over config). */
export const ENV = {
  config: 'UPDATE_PUBLISH_CONFIG',
  store: 'UPDATE_PUBLISH_STORE',
  channel: 'UPDATE_PUBLISH_CHANNEL',
} as const;

/** A setting from its flag, else the run's environment variable (an empty one counts as unset). */
export const fromFlagOrEnv = (session: Pick<Session, 'env'>, flag: string | undefined, variable: string) => flag ?? (session.env[variable] || undefined);

/** The config a command names (--config, UPDATE_PUBLISH_CONFIG) or finds from the run's folder up (to its HOME at most). */
export const loadSessionConfig = (session: Pick<Session, 'env' | 'cwd'>, options: Pick<GlobalOptions, 'config'>) =>
  loadConfig(fromFlagOrEnv(session, options.config, ENV.config), session.cwd, session.env.HOME || undefined);

export interface CommandContext extends LoadedConfig, WorkflowContext {
  session: Session;
  /** May we proceed without asking? True with --yes, --json, or without a terminal. */
  assumeYes: boolean;
  /** Channels the config names (none when running without a config). */
  configuredChannels: string[];
  /**
   * The channel a command acts on: the flag, else UPDATE_PUBLISH_CHANNEL, else
   * the config's; refused (exit 2, "did you mean") unless the store or the config knows it.
   */
  channel(flag: string | undefined): Promise<string>;
  /** A channel named outright (promote --from): checked the same way. */
  knownChannel(name: string): Promise<string>;
  /** The channel's name as `channel` resolves it, unchecked against the store (fetch --from asks its source instead). */
  channelName(flag: string | undefined): string;
}

export interface ContextOptions {
  /**
   * Reading commands (status, history, resolve, verify, fetch) run without a
   * config when told where to read: a store (--store, UPDATE_PUBLISH_STORE)
   * or `sourceGiven` (fetch --from).
   */
  configOptional?: boolean;
  sourceGiven?: boolean;
}

export const outputFor = (session: Session, options: GlobalOptions) => createOutput(options, session);

/** The config, or without one (where allowed) the defaults, with the folder relative paths start from. */
async function loadSettings(session: Session, options: GlobalOptions, contextOptions: ContextOptions, storeOverride: string | undefined): Promise<LoadedConfig & { configless: boolean }> {
  try {
    return { ...(await loadSessionConfig(session, options)), configless: false };
  } catch (error) {
    const canGoWithout = contextOptions.configOptional && (storeOverride !== undefined || contextOptions.sourceGiven);
    if (!(error instanceof ConfigNotFoundError)) throw error;
    if (!canGoWithout) {
      if (contextOptions.configOptional) throw new UserError(`${error.message}, or --store URL to read a store without one`);
      throw error;
    }
    return { config: defaultConfig(storeOverride ?? './releases'), configDir: session.cwd, configPath: '', configless: true };
  }
}

/** Loads config and store for a command, runs it, and always closes the store. */
export async function withContext<T>(
  session: Session,
  options: GlobalOptions,
  run: (context: CommandContext) => Promise<T>,
  contextOptions: ContextOptions = {},
): Promise<T> {
  const output = outputFor(session, options);
  const storeOverride = fromFlagOrEnv(session, options.store, ENV.store);
  const { configless, ...loaded } = await loadSettings(session, options, contextOptions, storeOverride);
  if (loaded.foundAbove) output.info(`using config ${loaded.configPath}`);
  if (loaded.ignoredConfigs?.length) {
    output.warn(`${loaded.configPath} is the config used; ${loaded.ignoredConfigs.join(', ')} ${loaded.ignoredConfigs.length === 1 ? 'is' : 'are'} ignored: remove the one you do not mean`);
  }
  const storeUrl = storeOverride ?? loaded.config.store;
  const realStore = await openStore(storeUrl, loaded.config.s3, storeOverride ? session.cwd : loaded.configDir, session.env);
  const dryRun = Boolean(options.dryRun);
  // Every command's document writes are signed here, in one place; the key is read on the first write.
  const configuredSigner = signerFor(loaded.config, loaded.configDir, session.env);
  // With a root in the store, the keys must be ones its signing role names (checked once, on first use).
  let checkedSigner: Promise<SignerSet> | undefined;
  const signer = configuredSigner && (() => (checkedSigner ??= configuredSigner().then(async (set) => (await assertSignersTrustedByRoot(realStore, set), set))));
  // Outside the signer: a document write that has begun lands together with its signature.
  // Checked once, just before the first write: a command that ends up writing nothing needs no secret.
  let environmentChecked = false;
  const writingStore = interruptibleStore(signer ? signingStore(realStore, signer) : realStore, session.interruption.signal, {
    onWrite: () => {
      if (!environmentChecked) {
        environmentChecked = true;
        assertWriteEnvironment(loaded.config, session.hookEvents, session.env);
      }
      session.writes.started = true;
    },
    onIndexWritten: () => void (session.writes.channelIndexWritten = true),
  });
  const described = dryRun ? dryRunStore(writingStore, (line) => output.info(`[dry-run] ${line}`)) : writingStore;
  // Outside the dry run: a dry run says it would be refused.
  const guarded = signer || options.allowUnsigned ? undefined : unsignedWriteGuard(described);
  const store = guarded?.store ?? described;
  const assumeYes = Boolean(options.yes) || !output.interactive;
  const configured = configless ? [] : configuredChannels(loaded.config);
  const channelName = (flag: string | undefined) => requireChannelName(fromFlagOrEnv(session, flag, ENV.channel) ?? loaded.config.channel);
  const knownChannel = async (name: string) => {
    await requireKnownChannel(realStore, requireChannelName(name), configured);
    return name;
  };
  try {
    return await run({
      ...loaded,
      session,
      output,
      store,
      signal: session.interruption.signal,
      dryRun,
      assumeYes,
      confirm: (question) => confirmOrSkip({ assumeYes, dryRun, session }, question),
      signer,
      assertSigningMatchesStore: guarded?.check,
      cwd: session.cwd,
      env: session.env,
      actor: actorFrom(session.env),
      configuredChannels: configured,
      channel: (flag) => knownChannel(channelName(flag)),
      knownChannel,
      channelName,
    });
  } finally {
    await realStore.close();
  }
}

/**
 * Opens only the store, for a command that reads nothing else (serve): with
 * --store no config is needed, so an app developer without the publisher's
 * config can serve a copy of the store.
 */
export async function withStore<T>(
  session: Session,
  options: GlobalOptions,
  run: (context: { store: Store; output: Output; config?: Config }) => Promise<T>,
): Promise<T> {
  const output = outputFor(session, options);
  const storeOverride = fromFlagOrEnv(session, options.store, ENV.store);
  // With --store the config is read when there is one (serve's receipts path), never required.
  const loaded = storeOverride ? await loadSessionConfig(session, options).catch(() => undefined) : await loadSessionConfig(session, options);
  const { url, s3, baseDir } = storeOverride ? { url: storeOverride, s3: undefined, baseDir: session.cwd } : { url: loaded!.config.store, s3: loaded!.config.s3, baseDir: loaded!.configDir };
  const store = await openStore(url, s3, baseDir, session.env);
  try {
    return await run({ store, output, config: loaded?.config });
  } finally {
    await store.close();
  }
}

export function requireChannelName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new UserError(`channel '${name}' is not a valid name; use lowercase letters, digits, '.', '_' or '-'`);
  }
  return name;
}

/** `maps` or `maps@1.2.0`. */
export function parsePackageTarget(argument: string): { packageId: string; version?: string } {
  const at = argument.indexOf('@');
  if (at === -1) return { packageId: argument };
  const version = argument.slice(at + 1);
  if (at === 0 || !version) throw new UserError(`'${argument}' is not <package>[@version]; use e.g. maps or maps@1.2.0`);
  return { packageId: argument.slice(0, at), version };
}
