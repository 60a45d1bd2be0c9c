import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { parseS3Url } from './s3-url.js';
import { PRIVATE_KEY_FILE } from '../protocol/signature.js';
import { NAME_PATTERN } from './schema.js';
import { snsArnRegion } from './hook-schema.js';
import { ENV_REF_PATTERN } from '../env-ref.js';

/** Where `init` puts a generated signing key pair, relative to the config file. */
export const KEYS_DIR = 'keys';
/** Package folders `init` looks for by default. */
export const ASSETS_DIR = 'assets';
/** The SNS topic default: an env reference, so the ARN can differ per CI environment. */
export const DEFAULT_SNS_TOPIC = 'env:UPDATE_PUBLISH_SNS_TOPIC';

export interface PackageChoice {
  id: string;
  /** Relative to the config file. */
  dir: string;
}

/**
 * Everything `init` asks. The wizard and the flags both produce this, and
 * buildInitConfig alone turns it into a config, so the two cannot drift.
 */
export interface InitAnswers {
  /** A folder path or s3://bucket/prefix. */
  store: string;
  /** S3 region; omitted means the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** S3-compatible endpoint (MinIO, R2, Ceph…). */
  endpoint?: string;
  packages: PackageChoice[];
  channel: string;
  /** Sign manifests with a key pair generated into keys/. */
  signing: boolean;
  /** CloudFront distribution id to invalidate after each release. */
  cloudfront?: string;
  /** SNS topic ARN (or env:NAME) to notify after each release. */
  sns?: string;
  /** URL to POST each release event to. */
  webhook?: string;
}

/** The starter template's settings init keeps as they are (deltas, presets, package patterns). */
export interface InitTemplate {
  store: string;
  channel: string;
  deltas: number;
  packages: Record<string, { dir: string; include?: string[]; exclude?: string[] }>;
  rules: Record<string, unknown>;
}

export const isS3Store = (store: string) => store.toLowerCase().startsWith('s3://');

/** The package a folder holds: its name is the id. */
export function packageForDir(dir: string): PackageChoice {
  const clean = dir.replace(/\\/g, '/').replace(/\/+$/, '');
  return { id: basename(clean), dir: clean };
}

/** `--packages maps,levels` (folders under assets/) or `--packages maps=art/maps,levels=data/levels`. */
export function parsePackageList(list: string): PackageChoice[] {
  const entries = list.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new UserError(`--packages '${list}' names no package; write e.g. --packages maps,levels or maps=art/maps`);
  return entries.map((entry) => {
    const [id, dir] = entry.includes('=') ? entry.split('=', 2).map((part) => part.trim()) : [entry, `${ASSETS_DIR}/${entry}`];
    if (!NAME_PATTERN.test(id)) {
      throw new UserError(`package id '${id}' in --packages is not a valid name; use lowercase letters, digits, '.', '_' or '-' (or name=dir)`);
    }
    if (!dir) throw new UserError(`--packages entry '${entry}' has no folder after '='; write name=dir`);
    return { id, dir };
  });
}


const isHttpUrl = (value: string) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
const hasCredentials = (value: string) => URL.canParse(value) && Boolean(new URL(value).username || new URL(value).password);
const orEnvRef = (valid: (value: string) => boolean) => (value: string) => valid(value) || ENV_REF_PATTERN.test(value);

/**
 * What `init` checks of each answer, the same for the wizard's prompts and
 * for flags with --yes: what is wrong with a value, or undefined.
 */
export const INIT_CHECKS = {
  endpoint: (value: string) =>
    !isHttpUrl(value)
      ? 'is not an http(s) URL, e.g. http://localhost:9000'
      : hasCredentials(value)
        ? 'holds credentials, which would be written into the config: give the URL without them (credentials come from the AWS SDK chain, e.g. AWS_ACCESS_KEY_ID)'
        : undefined,
  cloudfront: (value: string) =>
    orEnvRef((id) => /^[A-Z0-9]{6,}$/.test(id))(value) ? undefined : 'is not a CloudFront distribution id like E1ABCDEF2GHIJK, or env:NAME to read it from the environment',
  sns: (value: string) =>
    orEnvRef((arn) => /^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w.-]+$/.test(arn))(value)
      ? undefined
      : 'is not an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:app-updates, or env:NAME to read it from the environment',
  webhook: (value: string) =>
    !orEnvRef(isHttpUrl)(value)
      ? 'is not an http(s) URL, or env:NAME to read it from the environment'
      : hasCredentials(value)
        ? 'holds credentials, which would be written into the config: keep them in an env:NAME header or secret instead'
        : undefined,
} satisfies Record<string, (value: string) => string | undefined>;

/** Refuses an answer given as a flag that the wizard would have refused. */
function checkAnswers(answers: InitAnswers): void {
  for (const field of Object.keys(INIT_CHECKS) as (keyof typeof INIT_CHECKS)[]) {
    const value = answers[field];
    const problem = value === undefined ? undefined : INIT_CHECKS[field](value);
    // Never echo a URL holding credentials.
    const shown = value !== undefined && hasCredentials(value) ? 'the URL given' : `'${value}'`;
    if (problem) throw new UserError(`--${field} ${shown} ${problem}`);
  }
}

function storeSettings(answers: InitAnswers): { store: string; s3?: Record<string, unknown> } {
  if (!isS3Store(answers.store)) {
    const s3Only = answers.region ? '--region' : answers.endpoint ? '--endpoint' : undefined;
    if (s3Only) throw new UserError(`${s3Only} only applies to an s3://bucket/prefix store; drop it or pass --store s3://…`);
    return { store: answers.store };
  }
  parseS3Url(answers.store);
  const s3 = {
    ...(answers.region && { region: answers.region }),
    // MinIO, Ceph and local servers serve buckets by path, not by host name.
    ...(answers.endpoint && { endpoint: answers.endpoint, forcePathStyle: true }),
  };
  return { store: answers.store, ...(Object.keys(s3).length > 0 && { s3 }) };
}

function hooksFor(answers: InitAnswers): Record<string, unknown>[] {
  const hooks: Record<string, unknown>[] = [];
  if (answers.cloudfront) {
    // Devices fetch keys under the store's prefix when the distribution's origin is the bucket root.
    const prefix = isS3Store(answers.store) ? parseS3Url(answers.store).prefix : '';
    hooks.push({ type: 'cloudfront', distributionId: answers.cloudfront, ...(prefix && { pathPrefix: `/${prefix}` }) });
  }
  if (answers.sns) {
    // The store's region is an AWS region only for Amazon S3: an S3-compatible store's (R2: 'auto')
    // would send every publish to sns.auto.amazonaws.com. Without one the SDK's chain decides.
    const region = snsArnRegion(answers.sns) ?? (answers.endpoint ? undefined : answers.region);
    hooks.push({ type: 'sns', topicArn: answers.sns, ...(region && { region }) });
  }
  if (answers.webhook) hooks.push({ type: 'webhook', url: answers.webhook });
  return hooks;
}

/**
 * The config `init` writes: the template's defaults with the answers laid
 * over them. Pure, so the templates can be checked against it.
 */
export function buildInitConfig(template: InitTemplate, answers: InitAnswers): Record<string, unknown> {
  if (answers.packages.length === 0) throw new UserError('init needs at least one package folder; pass --packages maps,levels');
  checkAnswers(answers);
  const patterns = Object.values(template.packages)[0] ?? {};
  const packages = Object.fromEntries(
    answers.packages.map(({ id, dir }) => [
      id,
      { dir, ...(patterns.include && { include: patterns.include }), ...(patterns.exclude && { exclude: patterns.exclude }) },
    ]),
  );
  return {
    ...storeSettings(answers),
    channel: answers.channel,
    deltas: template.deltas,
    packages,
    rules: template.rules,
    hooks: hooksFor(answers),
    ...(answers.signing && { signing: { privateKey: `${KEYS_DIR}/${PRIVATE_KEY_FILE}` } }),
  };
}
