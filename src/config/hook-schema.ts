import { z } from 'zod';
import { HOOK_EVENT_NAMES } from '../protocol/release-event.js';
import { ENV_REF_PATTERN } from '../env-ref.js';

/** `env:NAME`: the value is read from the environment when the hook runs. */
const envRef = z.string().regex(ENV_REF_PATTERN, 'must look like env:NAME (letters, digits, _)');
/** A literal, or `env:NAME` for values that must stay out of the config file. */
const literalOrEnv = <T extends z.ZodType>(literal: T, what: string) =>
  z.union([envRef, literal], { error: `must be ${what}, or env:NAME to read it from the environment` });
const text = z.string().min(1);
const httpUrl = z.url({ protocol: /^https?$/ });
const timeoutMs = z.number().int().min(100, 'timeoutMs must be at least 100').max(600_000, 'timeoutMs must be at most 600000 (10 minutes)');

/** Fields every hook has. `name` defaults to the type (see hookName). */
const common = {
  /** Which events trigger the hook; default all. */
  on: z.array(z.enum(HOOK_EVENT_NAMES)).min(1, 'on must name at least one event').default([...HOOK_EVENT_NAMES]),
  /** A failed required hook makes the command exit 4 (the release stays). */
  required: z.boolean().default(true),
  name: z.string().regex(/^[\w.-]{1,64}$/, 'name must be letters, digits, _, . or - (max 64)').optional(),
  /** Bound on one call (webhook: each try; command: the whole run). Defaults: AWS 30 s, webhook 10 s, command 60 s. */
  timeoutMs: timeoutMs.optional(),
};

/** AWS hooks use the SDK's standard credential chain; endpoint is for local servers and compatible services. */
const aws = {
  region: literalOrEnv(text, 'a non-empty string').optional(),
  endpoint: literalOrEnv(httpUrl, 'an http(s) URL').optional(),
};

export const cloudFrontHookSchema = z.strictObject({
  type: z.literal('cloudfront'),
  ...common,
  ...aws,
  distributionId: literalOrEnv(text, 'a non-empty string'),
  /** Paths to invalidate instead of the changed mutable documents (wildcards allowed). */
  paths: z.array(z.string().startsWith('/', 'paths must start with /')).min(1).optional(),
  /** Prepended to object keys when the distribution serves the store from below its root, e.g. /updates. */
  pathPrefix: z.string().regex(/^(\/[^/]+)*$/, 'pathPrefix must look like /a/b (no trailing /)').default(''),
});

export const snsHookSchema = z
  .strictObject({
    type: z.literal('sns'),
    ...common,
    ...aws,
    topicArn: literalOrEnv(text, 'a non-empty string').optional(),
    /** A platform endpoint ARN, to push to one device or app directly instead of a topic. */
    targetArn: literalOrEnv(text, 'a non-empty string').optional(),
  })
  .refine((hook) => (hook.topicArn === undefined) !== (hook.targetArn === undefined), {
    message: 'sns hook needs exactly one of topicArn or targetArn',
  });

export const sesHookSchema = z.strictObject({
  type: z.literal('ses'),
  ...common,
  ...aws,
  from: literalOrEnv(z.email(), 'an email address'),
  to: z.array(literalOrEnv(z.email(), 'an email address')).min(1, 'to must list at least one address'),
  /** Link shown in the email, e.g. a dashboard; default the package's location in the store. */
  link: literalOrEnv(httpUrl, 'an http(s) URL').optional(),
});

/** A DynamoDB attribute name a key schema can use. */
const attributeName = z.string().regex(/^[A-Za-z0-9_.-]{1,255}$/, 'must be 1–255 letters, digits, _, . or -');

export const dynamoDbHookSchema = z
  .strictObject({
    type: z.literal('dynamodb'),
    ...common,
    ...aws,
    table: literalOrEnv(text, 'a non-empty string'),
    /** The table's partition and sort key attribute names (teams bring their own tables). */
    partitionKey: attributeName.default('package'),
    sortKey: attributeName.default('sk'),
  })
  .refine((hook) => hook.partitionKey !== hook.sortKey, { message: 'partitionKey and sortKey must be different attributes' });

export const webhookHookSchema = z.strictObject({
  type: z.literal('webhook'),
  ...common,
  url: literalOrEnv(httpUrl, 'an http(s) URL'),
  /** HMAC-SHA256 key for X-Update-Publish-Signature; a secret, so only as env:NAME. */
  secret: z.string().regex(ENV_REF_PATTERN, 'secret must be written env:NAME: secrets never live in the config file').optional(),
  /** Extra request headers; a value may be env:NAME (e.g. an Authorization token). */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'header names are letters, digits and -'), z.string()).default({}),
  /** Tries in all, counting the first; retried on 5xx, 429 and network errors. */
  attempts: z.number().int().min(1).max(10).default(3),
});

export const commandHookSchema = z.strictObject({
  type: z.literal('command'),
  ...common,
  run: text,
  /** Working directory; default the current one. */
  cwd: z.string().min(1).optional(),
  /**
   * Variables passed on from the CLI's environment beyond the basic ones
   * (PATH, HOME, locale, TMPDIR…, see hooks/command.ts): a command never sees
   * the CLI's keys and tokens unless named here.
   */
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env lists variable names: letters, digits and _')).optional(),
});

export const hookConfigSchema = z.discriminatedUnion('type', [
  cloudFrontHookSchema,
  snsHookSchema,
  sesHookSchema,
  dynamoDbHookSchema,
  webhookHookSchema,
  commandHookSchema,
]);

export type HookConfig = z.infer<typeof hookConfigSchema>;
export type HookType = HookConfig['type'];
export type HookOf<T extends HookType> = Extract<HookConfig, { type: T }>;
export type CloudFrontHook = HookOf<'cloudfront'>;
export type SnsHook = HookOf<'sns'>;
export type SesHook = HookOf<'ses'>;
export type DynamoDbHook = HookOf<'dynamodb'>;
export type WebhookHook = HookOf<'webhook'>;
export type CommandHook = HookOf<'command'>;

/** The region in an SNS ARN (arn:aws:sns:REGION:account:topic): where the topic or endpoint lives. */
export const snsArnRegion = (arn: string | undefined) => (arn ? /^arn:[^:]+:sns:([^:]+):/.exec(arn)?.[1] : undefined);

/** The name results are shown under. */
export const hookName = (hook: Pick<HookConfig, 'type' | 'name'>) => hook.name ?? hook.type;

/** Ordered: hooks run in the order written. Names must tell results apart. */
export const hooksConfigSchema = z
  .array(hookConfigSchema)
  .superRefine((hooks, ctx) => {
    const seen = new Set<string>();
    hooks.forEach((hook, index) => {
      const name = hookName(hook);
      if (seen.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `two hooks are named '${name}'; give each a distinct name`,
        });
      }
      seen.add(name);
    });
  })
  .default([]);
