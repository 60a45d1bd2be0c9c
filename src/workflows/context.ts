import type { Environment } from '../environment.js';
import type { Config } from '../config/schema.js';
import { DeclinedError } from '../errors.js';
import type { Output } from '../output.js';
import type { SignerSet } from '../keys/signers.js';
import type { Store } from '../store/store.js';

/**
 * What every workflow is handed: its dependencies, never a global. The CLI
 * builds it (cli/context.ts); tests can build one around a folder store.
 */
export interface WorkflowContext {
  config: Config;
  /** Relative paths in the config are relative to this. */
  configDir: string;
  /** Writes through it are signed, interruptible and, in a dry run, only described. */
  store: Store;
  output: Output;
  /** Asked before a write; false cancels. Answers true by itself under --yes, --json, CI and dry run. */
  confirm: (question: string) => Promise<boolean>;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  dryRun: boolean;
  /** The publisher's signing keys, read once on first call (the ones the store signs with); absent without signing. */
  signer?: () => Promise<SignerSet>;
  /** Without signing: refuses a signed store (unless --allow-unsigned), as the first write would; called before long work. */
  assertSigningMatchesStore?: () => Promise<void>;
  /** The run's working folder (never the process's): paths given on the command line start here. */
  cwd: string;
  /** Who acts, as history entries and hook events record it. */
  actor: string;
  /** The run's environment variables (never the process's): `env:NAME` values, AWS settings, commands' variables. */
  env: Environment;
}

/** Asks before a write; a "no" stops the run with exit 5 and `message` (what was not done). */
export async function confirmOrDecline(context: Pick<WorkflowContext, 'confirm'>, question: string, message?: string): Promise<void> {
  if (!(await context.confirm(question))) throw new DeclinedError(message);
}
