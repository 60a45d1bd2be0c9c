import type { AppReleasesDocument } from './app-releases.js';
import type { SwitchesDocument } from './switches.js';
import type { TargetingRules } from './types.js';

/**
 * The whitelists a document's rules name: what a device reads for it (§7)
 * and what an index written now binds (§3.1 `whitelists`).
 */
const listsOf = (rules: Iterable<TargetingRules>): string[] => [...new Set([...rules].flatMap((each) => each.whitelist ?? []))];

export const switchesWhitelists = (document: SwitchesDocument): string[] =>
  listsOf(Object.values(document.switches).flatMap((entry) => entry.variants.map((variant) => variant.rules)));

export const appReleasesWhitelists = (document: AppReleasesDocument): string[] =>
  listsOf(Object.values(document.platforms).flatMap((platform) => platform.releases.map((release) => release.rules)));
