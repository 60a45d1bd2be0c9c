import { currentRelease } from '../protocol/channel-index.js';
import type { Manifest, ManifestFile, Release, ReleaseRules } from '../protocol/types.js';
import { decidePackage, type PackageFacts } from './decide.js';
import { planDeltas, type DeltaPlan } from './delta-plan.js';
import { countChanges, diffFiles } from './diff.js';

/**
 * What publishing one package will do, decided before anything is packed or
 * written: the value `--dry-run` and the confirmation prompt render, and
 * that tests assert on.
 */
export interface PackagePlan {
  id: string;
  status: 'publish' | 'unchanged';
  version: string;
  /** The channel's current release before this publish (what devices compare with). */
  previousVersion: string | null;
  changes: { added: number; changed: number; removed: number };
  /** Versions a delta package will be built from (fewer when a delta would save nothing). */
  deltasFrom: string[];
  /** What each delta package holds. */
  deltas: DeltaPlan[];
  /** Bytes of the package's files, before compression. */
  bytes: number;
  /** The rules the new release gets; an unchanged package keeps its release's. */
  rules: ReleaseRules;
  /** Unchanged: the release already serving this content. */
  release?: Release;
  /** The manifest an interrupted run already stored for this version, to finish it. */
  storedManifest?: Manifest;
}

/** A file as planning sees it: its SHA-256 may be unknown yet when nothing stored is there to compare with (hashesDecide). */
export type PlannedFile = Omit<ManifestFile, 'sha256'> & { sha256?: string };

export interface PlanFacts extends PackageFacts {
  files: PlannedFile[];
  rules: ReleaseRules;
}

/** Pure: the plan of one package from what the store and the folder hold. */
export function planPackage(facts: PlanFacts): PackagePlan {
  const decision = decidePackage(facts);
  // Every SHA-256 is known unless no stored manifest exists to diff against (decidePackage refuses otherwise):
  // without one, every file is added and no delta has a base, whatever the hashes.
  const files = facts.files as ManifestFile[];
  const previous = currentRelease(facts.channelReleases);
  const previousManifest = facts.storedManifests.find((manifest) => manifest.version === previous?.version);
  const common = {
    id: facts.id,
    previousVersion: previous?.version ?? null,
    bytes: facts.files.reduce((sum, file) => sum + file.size, 0),
  };
  if (decision.kind === 'unchanged') {
    const { release } = decision;
    return { ...common, status: 'unchanged', version: release.version, changes: { added: 0, changed: 0, removed: 0 }, deltasFrom: [], deltas: [], rules: release.rules, release };
  }
  const baseManifests = decision.baseVersions
    .map((from) => facts.storedManifests.find((manifest) => manifest.version === from))
    .filter((manifest): manifest is Manifest => manifest !== undefined);
  const deltas = planDeltas(files, baseManifests);
  return {
    ...common,
    status: 'publish',
    version: decision.version,
    changes: countChanges(diffFiles(previousManifest?.files ?? [], files)),
    deltasFrom: deltas.map((delta) => delta.fromVersion),
    deltas,
    rules: facts.rules,
    storedManifest: facts.storedManifests.find((manifest) => manifest.version === decision.version),
  };
}
