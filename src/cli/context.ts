import { loadConfig, type LoadedConfig } from '../config/load.js';
import { NAME_PATTERN } from '../config/schema.js';
import { UserError } from '../errors.js';
import { openStore } from '../store/open-store.js';
import { dryRunStore } from '../store/dry-run-store.js';
import { interruptibleStore } from '../store/interruptible-store.js';
import { signerFor } from '../keys/publisher-keys.js';
import { signingStore } from '../store/signing-store.js';
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
}

export interface CommandContext extends LoadedConfig, WorkflowContext {
  session: Session;
  /** May we proceed without asking? True with --yes, --json, or without a terminal. */
  assumeYes: boolean;
}

export const outputFor = (session: Session, options: GlobalOptions) => createOutput(options, session);

/** Loads config and store for a command, runs it, and always closes the store. */
export async function withContext<T>(session: Session, options: GlobalOptions, run: (context: CommandContext) => Promise<T>): Promise<T> {
  const output = outputFor(session, options);
  const loaded = await loadConfig(options.config);
  const storeUrl = options.store ?? loaded.config.store;
  const realStore = await openStore(storeUrl, loaded.config.s3, options.store ? process.cwd() : loaded.configDir);
  const dryRun = Boolean(options.dryRun);
  // Every command's document writes are signed here, in one place; the key is read on the first write.
  const signer = signerFor(loaded.config, loaded.configDir);
  // Outside the signer: a document write that has begun lands together with its signature.
  const writingStore = interruptibleStore(signer ? signingStore(realStore, signer) : realStore, session.interruption.signal, {
    onWrite: () => void (session.writes.started = true),
    onIndexWritten: () => void (session.writes.channelIndexWritten = true),
  });
  const store = dryRun ? dryRunStore(writingStore, (line) => output.info(`[dry-run] ${line}`)) : writingStore;
  const assumeYes = Boolean(options.yes) || !output.interactive;
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
  run: (context: { store: Store; output: Output }) => Promise<T>,
): Promise<T> {
  const output = outputFor(session, options);
  const { url, s3, baseDir } = options.store
    ? { url: options.store, s3: undefined, baseDir: process.cwd() }
    : await loadConfig(options.config).then(({ config, configDir }) => ({ url: config.store, s3: config.s3, baseDir: configDir }));
  const store = await openStore(url, s3, baseDir);
  try {
    return await run({ store, output });
  } finally {
    await store.close();
  }
}

export function requireChannel(channel: string | undefined, fallback: string): string {
  const name = channel ?? fallback;
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
