import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { UserError } from '../errors.js';
import semver from 'semver';
import { hooksConfigSchema } from './hook-schema.js';
import { isRollout, timeProblem } from '../protocol/rule-values.js';
import { storeUrlProblem } from './store-url.js';
import { accessConfigSchema } from './access-schema.js';
import type { ReceiptsSettings } from '../protocol/receipts.js';
import { closestName } from '../suggest.js';

/** How long a channel index stays valid on devices unless `signing.indexLifetime` says otherwise. */
export const DEFAULT_INDEX_LIFETIME = '30d';

/** Ids and channel names become object keys and folder names: keep them boring. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const name = (what: string) =>
  z.string().regex(NAME_PATTERN, `${what} must be lowercase letters, digits, '.', '_' or '-' (max 64), starting with a letter or digit`);

const percent = (field: string) => z.number().min(0, `${field} must be 0–100`).max(100, `${field} must be 0–100`);
const duration = (field: string) => z.string().refine((text) => parseDuration(text) !== undefined, `${field} must be a duration such as "1h", "90m" or "2d"`);

/**
 * When `rollout tick` advances or halts a release by itself (README "Health and
 * automatic rollouts"): stages to go through, how long to bake at each, and
 * the failure-rate thresholds judged on the 95 % interval.
 */
export const rolloutPolicySchema = z
  .strictObject({
    stages: z
      .array(z.number().gt(0, 'stages must be above 0').max(100, 'stages must be 0–100').refine(isRollout, 'stages must have at most two decimals'))
      .min(1, 'stages must list at least one percentage, ending at 100')
      .refine((stages) => stages.every((stage, i) => i === 0 || stage > stages[i - 1]), 'stages must ascend, e.g. [1, 5, 25, 100]')
      .refine((stages) => stages[stages.length - 1] === 100, 'stages must end at 100'),
    /** Time at a stage before it may advance. */
    bake: duration('bake').default('1h'),
    /** Launches needed (at the current stage's release) before advancing. */
    minLaunches: z.number().int().min(0).default(100),
    /** Advance only when the failure rate's upper bound is at or below this (percent). */
    maxFailurePercent: percent('maxFailurePercent').default(1),
    /** Halt when the failure rate's lower bound is at or above this (percent). */
    haltFailurePercent: percent('haltFailurePercent').default(5),
    /** Failures needed before a halt: never halt on a handful of devices. */
    minFailures: z.number().int().min(1).default(5),
  })
  .refine((policy) => policy.haltFailurePercent > policy.maxFailurePercent, {
    path: ['haltFailurePercent'],
    message: 'haltFailurePercent must be above maxFailurePercent',
  });

export const packageConfigSchema = z.strictObject({
  dir: z.string().min(1, 'dir must name the folder holding the package files'),
  include: z.array(z.string().min(1)).min(1).default(['**/*']),
  exclude: z.array(z.string().min(1)).default([]),
  rolloutPolicy: rolloutPolicySchema.optional(),
});

/** Device receipts (PROTOCOL.md §18): where devices send them, the share of installs that do, and where health reads them. */
export const receiptsConfigSchema = z.strictObject({
  /** Absolute (https://…), or relative to the store root such as "r/v1": written into the signed channel index. */
  url: z
    .string()
    .min(1)
    .refine((url) => /^https?:\/\//.test(url) || !/^[a-z][a-z0-9+.-]*:|^\/|\?|#/i.test(url), 'url must be https://… or a path relative to the store root such as "r/v1" (no leading /, ? or #)'),
  sampleRate: z.number().gt(0, 'sampleRate must be above 0 (leave receipts out to send none)').max(1, 'sampleRate must be at most 1').optional(),
  /** Where `health` and `rollout tick` read receipts: a log folder or file, s3://bucket/prefix, or athena://workgroup/database.table. */
  source: z.string().min(1).optional(),
});

const unique = (items: string[]) => new Set(items).size === items.length;

/** A time as the --starts-at/--ends-at flags take it, stored as ISO-8601 UTC. */
const time = z
  .string()
  .superRefine((value, context) => {
    const problem = timeProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: `'${value}' ${problem}` });
  })
  .transform((value) => new Date(value).toISOString());

/** Release rules as written in config presets; every field optional. */
export const rulesConfigSchema = z
  .strictObject({
    platforms: z.array(z.string().min(1)).min(1, 'platforms must name at least one platform; leave it out to serve all').refine(unique, 'platforms lists a platform twice').optional(),
    appVersion: z
      .string()
      .min(1, 'appVersion "" would match every app version; leave it out for that')
      .refine((range) => semver.validRange(range) !== null, 'appVersion must be a valid semver range, e.g. ">=2.0.0 <3"')
      .optional(),
    rollout: z.number().refine(isRollout, 'rollout must be 0–100 with at most two decimals, e.g. 10 or 12.5').optional(),
    startsAt: time.optional(),
    endsAt: time.optional(),
    mandatory: z.boolean().optional(),
    whitelist: z.array(name('whitelist name')).min(1, 'whitelist must name at least one list').refine(unique, 'whitelist lists a name twice').optional(),
    attributes: z.record(z.string().min(1), z.string().min(1, 'attribute values must not be empty')).optional(),
    /** `rollout tick`'s policy for releases published with this preset (over the package's and the top-level one). */
    rolloutPolicy: rolloutPolicySchema.optional(),
  })
  .refine((rules) => !rules.startsAt || !rules.endsAt || rules.endsAt > rules.startsAt, {
    path: ['endsAt'],
    message: 'endsAt must be after startsAt',
  });

export const s3ConfigSchema = z.strictObject({
  region: z.string().optional(),
  endpoint: z.url({ protocol: /^https?$/, error: 'endpoint must be an http:// or https:// URL, e.g. http://localhost:9000' }).optional(),
  forcePathStyle: z.boolean().optional(),
  /** Multipart part size in bytes (S3 minimum 5 MiB). */
  partSize: z.number().int().min(5 * 1024 * 1024, 'partSize must be at least 5 MiB (5242880)').optional(),
  /** Parts of one file in flight. */
  queueSize: z.number().int().min(1).max(64).optional(),
  /** Files in flight. */
  concurrency: z.number().int().min(1).max(64).optional(),
  profile: z.string().optional(),
});

/** The largest file a patch is made for by default: applying one holds the old and new file in memory (docs/deltas.md). */
export const DEFAULT_PATCH_MAX_FILE_SIZE = 64 * 1024 * 1024;
/** A patch's window must cover the file; zstd decoders accept windows up to 2^27 without being told to. */
const PATCH_FILE_SIZE_LIMIT = 128 * 1024 * 1024;

/** Binary patches inside deltas (zstd --patch-from), for changed files where they pay. */
export const deltaPatchesSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Changed files smaller than this go in whole. */
    minFileSize: z.number().int().min(0).default(65536),
    /** A patch is kept only when at most this share of the file's packed size. */
    maxRatio: z.number().gt(0, 'maxRatio must be above 0').max(1, 'maxRatio must be at most 1').default(0.5),
    /** Files above this size are never patched. */
    maxFileSize: z
      .number()
      .int()
      .min(1)
      .max(PATCH_FILE_SIZE_LIMIT, `maxFileSize must be at most ${PATCH_FILE_SIZE_LIMIT} (128 MiB): devices could not apply larger patches with zstd's default window limit`)
      .default(DEFAULT_PATCH_MAX_FILE_SIZE),
  })
  .refine((patches) => patches.minFileSize <= patches.maxFileSize, { path: ['minFileSize'], message: 'minFileSize must not exceed maxFileSize' });

/** Default of `deltaMaxRatio`: a delta above 80 % of the full package is not worth a second object. */
export const DEFAULT_DELTA_MAX_RATIO = 0.8;

export const configSchema = z.strictObject({
  /** A folder path (the embedded store) or s3://bucket/prefix. */
  store: z
    .string()
    .min(1)
    .superRefine((url, context) => {
      const problem = storeUrlProblem(url);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    })
    .default('./releases'),
  s3: s3ConfigSchema.optional(),
  channel: name('channel').default('production'),
  /** Further channels that exist whether or not anything was released there yet (besides `channel` and those created with `channel create`). */
  channels: z
    .array(name('channel'))
    .refine(unique, 'channels lists a channel twice; list each once')
    .optional(),
  /** Delta packages are built from this many previous versions on the channel. */
  deltas: z.number().int().min(0).max(20).default(3),
  /**
   * A delta is built only when it is at most this share of the full package (in bytes): a delta
   * nearly as big as the full package costs an upload and a store object and saves devices nothing.
   */
  deltaMaxRatio: z.number().gt(0, 'deltaMaxRatio must be above 0').max(1, 'deltaMaxRatio must be at most 1 (1: build every delta)').default(DEFAULT_DELTA_MAX_RATIO),
  deltaPatches: deltaPatchesSchema.default({ enabled: true, minFileSize: 65536, maxRatio: 0.5, maxFileSize: DEFAULT_PATCH_MAX_FILE_SIZE }),
  packages: z
    .record(name('package id'), packageConfigSchema)
    .refine((packages) => Object.keys(packages).length > 0, 'packages must name at least one package'),
  rules: z.record(name('rule preset name'), rulesConfigSchema).default({}),
  /** Platforms besides the known ones (ios, android, harmony, web, windows, macos, linux) that rules may name. */
  platforms: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'platforms holds names such as "tvos": letters, digits, ".", "_" or "-"'))
    .refine(unique, 'platforms lists a platform twice; list each once')
    .default([]),
  /** What gc keeps of what no device can be served any more (see docs/commands.md, gc). */
  retention: z
    .strictObject({
      /** Archived releases kept per package and channel, newest first (for `rollback --to`). */
      keepArchived: z.number().int().min(0).optional(),
      /** Unreferenced versions and archived releases younger than this are kept. */
      olderThan: z
        .string()
        .refine((text) => parseDuration(text) !== undefined, 'retention.olderThan must be a duration such as "90d", "12h" or "2w"')
        .optional(),
    })
    .optional(),
  hooks: hooksConfigSchema,
  signing: z
    .strictObject({
      /** A PEM path, env:NAME, kms:<key-arn> or command:<program>; a list signs every document with each key. */
      privateKey: z.union([z.string().min(1), z.array(z.string().min(1)).min(1, 'privateKey must name at least one key')]),
      /** The public key (PEM path or env:NAME) of each command: signer, in order. */
      publicKey: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
      /** How many of the keys must have signed a document read back (default 1). */
      threshold: z.number().int().min(1).optional(),
      keyId: z.string().optional(),
      /** How long a written channel index stays valid on devices; every write (and `refresh`) sets a fresh expiry. */
      indexLifetime: z
        .string()
        .refine((text) => (parseDuration(text) ?? 0) > 0, 'indexLifetime must be a duration such as "30d", "12h" or "2w"')
        .default(DEFAULT_INDEX_LIFETIME),
    })
    .optional(),
  encryption: z.strictObject({ key: z.string().min(1), keyId: z.string().optional() }).optional(),
  /** Private content: CloudFront signed cookies and URLs (docs/private-content.md). */
  access: accessConfigSchema.optional(),
  receipts: receiptsConfigSchema.optional(),
  rolloutPolicy: rolloutPolicySchema.optional(),
});

export type Config = z.infer<typeof configSchema>;
export type PackageConfig = z.infer<typeof packageConfigSchema>;
export type RulesConfig = z.infer<typeof rulesConfigSchema>;
export type S3Config = z.infer<typeof s3ConfigSchema>;
export type DeltaPatchesConfig = z.infer<typeof deltaPatchesSchema>;
export type RolloutPolicy = z.infer<typeof rolloutPolicySchema>;
export type ReceiptsConfig = z.infer<typeof receiptsConfigSchema>;

/** The fields a config object at `path` may hold, for "did you mean" on an unknown one. */
function knownFieldsAt(path: readonly PropertyKey[]): string[] {
  const [first, second, third] = path.map(String);
  if (path.length === 0) return Object.keys(configSchema.shape);
  if (path.length === 1 && first === 's3') return Object.keys(s3ConfigSchema.shape);
  if (path.length === 1 && first === 'signing') return ['privateKey', 'keyId', 'indexLifetime'];
  if (path.length === 1 && first === 'encryption') return ['key', 'keyId'];
  if (path.length === 1 && first === 'retention') return ['keepArchived', 'olderThan'];
  if (path.length === 1 && first === 'deltaPatches') return ['enabled', 'minFileSize', 'maxRatio', 'maxFileSize'];
  if (path.length === 2 && first === 'packages' && second !== undefined) return Object.keys(packageConfigSchema.shape);
  if (path.length === 2 && first === 'rules' && third === undefined) return Object.keys(rulesConfigSchema.shape);
  return [];
}

/** "unknown field 'pakages' (did you mean 'packages'?)" for each key a strict object does not know. */
function describeUnknownKeys(keys: readonly string[], path: readonly PropertyKey[]): string {
  const known = knownFieldsAt(path);
  return keys
    .map((key) => {
      const closest = closestName(key, known) ?? known.find((field) => field.toLowerCase() === key.toLowerCase());
      return `unknown field '${key}'${closest ? ` (did you mean '${closest}'?)` : ''}`;
    })
    .join(', ');
}

/** Every problem, each by its path, in one line. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      // A bad record key ("packages.M") says only "Invalid key in record": the key schema's own message names the rule.
      const message =
        issue.code === 'invalid_key'
          ? issue.issues.map((inner) => inner.message).join('; ')
          : issue.code === 'unrecognized_keys'
            ? describeUnknownKeys(issue.keys, issue.path)
            : issue.message;
      return `${issue.path.length ? issue.path.join('.') : '(root)'}: ${message}`;
    })
    .join('; ');
}

/** Every setting at its default and no package: what commands that only read a store run with when there is no config. */
export const defaultConfig = (store: string): Config => ({ ...configSchema.omit({ packages: true }).parse({ store }), packages: {} });

/** Channels the config names: its default `channel` and the `channels` list. */
export const configuredChannels = (config: Pick<Config, 'channel' | 'channels'>) => [...new Set([config.channel, ...(config.channels ?? [])])];

/** The packages a command names, all configured ones when it names none; an unknown one is refused. */
export function assertKnownPackages(config: Config, ids: string[]): string[] {
  const known = Object.keys(config.packages);
  for (const id of ids) {
    if (!known.includes(id)) throw new UserError(`unknown package '${id}'; configured packages: ${known.join(', ')}`);
  }
  return ids.length ? ids : known;
}

/** `receipts` as the channel index carries it (url and sampleRate; the source stays with the publisher), null without. */
export const receiptsSettingsOf = (config: Pick<Config, 'receipts'>): ReceiptsSettings | null =>
  config.receipts ? { url: config.receipts.url, ...(config.receipts.sampleRate !== undefined && { sampleRate: config.receipts.sampleRate }) } : null;

/** Milliseconds a written channel index stays valid (`signing.indexLifetime`, default 30 days). */
export const indexLifetimeMs = (config: Pick<Config, 'signing'>) => parseDuration(config.signing?.indexLifetime ?? DEFAULT_INDEX_LIFETIME)!;
