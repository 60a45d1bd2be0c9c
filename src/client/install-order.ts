/**
 * Which package a device tries first, and what it falls back to when one
 * fails (PROTOCOL.md §10.3). Pure, so every client follows the same order:
 * the conformance vectors (end-to-end.json, check `install-order`) pin it.
 */

/** The three ways to the same tree, cheapest first. */
export type PackageChoice = 'patched' | 'delta' | 'full';

/**
 * How an attempt failed: `bad-package` (the object or an entry failed a
 * check: size, SHA-256, a patch that does not decode or makes other bytes),
 * `damaged-base` (an installed file the delta builds on is not what the
 * manifest says), or `other` (network, space, input: no other package helps).
 */
export type AttemptFailure = 'bad-package' | 'damaged-base' | 'other';

/** What the decision offers (§6.4): a delta, and with it a patched one for a client that applies patches. */
export function installChoices(kind: 'full' | 'delta', patched: boolean): PackageChoice[] {
  if (kind === 'full') return ['full'];
  return patched ? ['patched', 'delta', 'full'] : ['delta', 'full'];
}

/**
 * The next package after `failed` failed with `failure`, or null: refuse with
 * that failure. A damaged base goes straight to the full package (every
 * delta builds on the same base); a package that fails a check gives way to
 * the next one; nothing else falls back.
 */
export function nextChoice(choices: readonly PackageChoice[], failed: PackageChoice, failure: AttemptFailure): PackageChoice | null {
  if (failed === 'full' || failure === 'other' || !choices.includes('full')) return null;
  if (failure === 'damaged-base') return 'full';
  return choices[choices.indexOf(failed) + 1] ?? null;
}
