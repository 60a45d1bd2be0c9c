import semver from 'semver';
import { z } from 'zod';
import { isProtocolTime } from './time.js';

/**
 * The shapes of the stored documents as readers rely on them. Fields this version
 * does not know pass through (a newer minor writer may add some); a missing
 * or mistyped one is named, instead of failing later as "undefined".
 */
export const versionSchema = z.string().refine((value) => semver.valid(value) === value, 'not a semver version');
// A wrong SHA-256 value is for the integrity checks to catch; here it must merely be there.
const sha256 = z.string().min(1);
const storedObject = z.looseObject({ key: z.string().min(1), size: z.number().int().nonnegative(), sha256 });
export const timeSchema = z.string().refine(isProtocolTime, 'not an ISO-8601 time (e.g. 2026-12-01T00:00:00.000Z)');

/** Who is served: package releases, switch variants and app releases share these. */
export const targetingRulesSchema = z.looseObject({
  rollout: z.number().min(0).max(100),
  rolloutBasisPoints: z.number().int().min(0).max(10_000).optional(),
  platforms: z.array(z.string()).optional(),
  appVersion: z
    .string()
    .refine((value) => semver.validRange(value) !== null, 'not a semver range')
    .optional(),
  startsAt: timeSchema.optional(),
  endsAt: timeSchema.optional(),
  whitelist: z.array(z.string()).optional(),
  attributes: z.record(z.string(), z.string()).optional(),
});

export const releaseRulesSchema = targetingRulesSchema.extend({ mandatory: z.boolean() });
const rules = releaseRulesSchema;

export const releaseSchema = z.looseObject({
  version: versionSchema,
  releasedAt: timeSchema,
  manifest: z.looseObject({ key: z.string().min(1), sha256, size: z.number().int().nonnegative().optional() }),
  full: storedObject,
  deltas: z.array(storedObject.extend({ from: versionSchema, patched: storedObject.optional(), removed: z.array(z.string()).optional() })),
  rules,
  state: z.enum(['active', 'halted', 'rolled-back']),
  message: z.string().optional(),
  commit: z.string().optional(),
});

const manifestFile = z.looseObject({ path: z.string(), size: z.number().int().nonnegative(), sha256 });

export const manifestSchema = z.looseObject({
  schemaVersion: z.number().int(),
  id: z.string(),
  version: versionSchema,
  contentSha256: z.string(),
  files: z.array(manifestFile),
  full: storedObject,
  deltas: z.array(
    storedObject.extend({
      from: versionSchema,
      removed: z.array(z.string()),
      patched: storedObject
        .extend({
          format: z.string(),
          patches: z.array(z.looseObject({ path: z.string(), baseSize: z.number().int().nonnegative(), baseSha256: sha256 })),
        })
        .optional(),
    }),
  ),
  encryption: z.looseObject({ algorithm: z.string(), keyId: z.string() }).optional(),
});

export const channelIndexSchema = z.looseObject({
  schemaVersion: z.number().int(),
  channel: z.string(),
  updatedAt: z.string(),
  // Absent only in indexes written before freshness (read as version 0, never expiring).
  version: z.number().int().nonnegative().optional(),
  expires: timeSchema.optional(),
  // The upload of each whitelist the rules use, as the index was written (protocol/whitelist.ts).
  whitelists: z.record(z.string(), z.looseObject({ version: z.number().int().positive(), shards: z.number().int().positive() })).optional(),
  // The switches and app-releases versions the index was written with (protocol/document-binding.ts).
  documents: z
    .looseObject({
      switches: z.looseObject({ version: z.number().int().nonnegative() }).optional(),
      appReleases: z.looseObject({ version: z.number().int().nonnegative() }).optional(),
    })
    .optional(),
  packages: z.record(
    z.string(),
    z.looseObject({
      releases: z.array(releaseSchema),
      bases: z.array(z.looseObject({ version: versionSchema, addedAt: timeSchema, manifest: z.looseObject({ key: z.string().min(1), sha256 }) })).optional(),
    }),
  ),
});

/** The first problem, as `packages.maps.releases.0.manifest: …`. */
export function indexProblem(document: unknown): string | undefined {
  return schemaProblem(channelIndexSchema, document);
}

/** The first problem of a document against a schema, by its path; undefined when it fits. */
export function schemaProblem(schema: z.ZodType, document: unknown): string | undefined {
  const result = schema.safeParse(document);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  return `${issue.path.join('.') || '(top level)'}: ${issue.message}`;
}
