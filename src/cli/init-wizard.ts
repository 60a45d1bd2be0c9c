import { checkbox, confirm, input, select } from '@inquirer/prompts';
import { NAME_PATTERN } from '../config/schema.js';
import { DEFAULT_SNS_TOPIC, INIT_CHECKS, isS3Store, packageForDir, type InitAnswers, type PackageChoice } from '../config/init-config.js';
import { UserError } from '../errors.js';
import { parseS3Url } from '../config/s3-url.js';
import type { CliIo, Session } from './session.js';

/** Where prompts read and write: stderr like every log, so stdout only ever holds the result. */
type PromptContext = { input: CliIo['stdin']; output: CliIo['stderr'] };

type StoreKind = 'folder' | 's3' | 's3-compatible';
type HookKind = 'cloudfront' | 'sns' | 'webhook';

/** A prompt validator from a check that throws UserError (the same checks the config gets). */
const validBy = (check: (value: string) => unknown) => (value: string) => {
  try {
    check(value);
    return true;
  } catch (error) {
    return error instanceof UserError ? error.message : String(error);
  }
};
/** A prompt validator from one of init's checks (the flags with --yes get the same). */
const checkedBy = (check: (value: string) => string | undefined) => (value: string) => {
  const problem = check(value.trim());
  return problem ? `this ${problem}` : true;
};

/**
 * Asks every `init` question at a terminal, starting from `defaults` (the
 * flags given, else the template's values). `candidates` are the project's
 * folders that could be packages. The region suggested is the run's AWS_REGION.
 */
export async function runInitWizard(defaults: InitAnswers, candidates: string[], session: Pick<Session, 'io' | 'env'>): Promise<InitAnswers> {
  const context: PromptContext = { input: session.io.stdin, output: session.io.stderr };
  try {
    const store = await askStore(defaults, context, session.env.AWS_REGION);
    const packages = await askPackages(defaults.packages, candidates, context);
    const channel = await input(
      {
        message: 'Default channel (the one the app reads, e.g. production):',
        default: defaults.channel,
        validate: (value) => NAME_PATTERN.test(value.trim()) || "use lowercase letters, digits, '.', '_' or '-'",
      },
      context,
    );
    const signing = await confirm(
      { message: 'Generate a signing key pair in keys/ (the app verifies every document with the public key)?', default: defaults.signing },
      context,
    );
    const hooks = await askHooks(defaults, store.region, context);
    return { ...store, packages, channel: channel.trim(), signing, ...hooks };
  } catch (error) {
    // Ctrl-C at a prompt (inquirer's documented way to tell: the error's name).
    if ((error as Error)?.name === 'ExitPromptError') throw new UserError('init cancelled; nothing was written', 130);
    throw error;
  }
}

async function askStore(defaults: InitAnswers, context: PromptContext, environmentRegion: string | undefined): Promise<Pick<InitAnswers, 'store' | 'region' | 'endpoint'>> {
  const wasS3 = isS3Store(defaults.store);
  const kind = await select<StoreKind>(
    {
      message: 'Where should packages be stored?',
      choices: [
        { value: 'folder', name: 'A local folder', description: 'serve or sync it yourself (any web server, rsync, a bucket)' },
        { value: 's3', name: 'Amazon S3', description: 'a bucket and key prefix; CloudFront can serve it' },
        { value: 's3-compatible', name: 'S3-compatible service', description: 'MinIO, Cloudflare R2, Ceph… at an endpoint URL' },
      ],
      default: defaults.endpoint ? 's3-compatible' : wasS3 ? 's3' : 'folder',
    },
    context,
  );
  if (kind === 'folder') {
    const folder = await input(
      { message: 'Store folder:', default: wasS3 ? './releases' : defaults.store, required: true },
      context,
    );
    return { store: folder.trim() };
  }
  const endpoint =
    kind === 's3-compatible'
      ? (
          await input(
            {
              message: 'Endpoint URL (e.g. https://<account>.r2.cloudflarestorage.com or http://localhost:9000):',
              default: defaults.endpoint,
              validate: checkedBy(INIT_CHECKS.endpoint),
            },
            context,
          )
        ).trim()
      : undefined;
  const previous = wasS3 ? parseS3Url(defaults.store) : undefined;
  const bucket = await input(
    { message: 'Bucket:', default: previous?.bucket, required: true, validate: validBy((value) => parseS3Url(`s3://${value.trim()}`)) },
    context,
  );
  const prefix = await input(
    {
      message: "Key prefix inside the bucket ('/' for the bucket root):",
      default: previous?.prefix ?? 'updates',
      validate: validBy((value) => parseS3Url(`s3://${bucket.trim()}/${value.trim()}`)),
    },
    context,
  );
  const region = await input(
    {
      message: kind === 's3' ? "Bucket's region:" : 'Region (R2: auto; MinIO: us-east-1):',
      default: defaults.region ?? environmentRegion ?? (kind === 's3' ? 'us-east-1' : 'auto'),
      required: true,
    },
    context,
  );
  const location = parseS3Url(`s3://${bucket.trim()}/${prefix.trim()}`);
  return {
    store: `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`,
    region: region.trim(),
    ...(endpoint && { endpoint }),
  };
}

async function askPackages(defaults: PackageChoice[], candidates: string[], context: PromptContext): Promise<PackageChoice[]> {
  const chosenBefore = new Map(defaults.map((choice) => [choice.dir, choice]));
  const dirs = [...new Set([...defaults.map((choice) => choice.dir), ...candidates])];
  const found = candidates.length > 0;
  const toChoice = (dir: string) => chosenBefore.get(dir) ?? packageForDir(dir);
  const uniqueIds = (chosen: PackageChoice[]) => {
    const ids = chosen.map((choice) => choice.id);
    const twice = ids.find((id, index) => ids.indexOf(id) !== index);
    return twice ? `two folders are both named '${twice}'; keep one, or rename a folder` : true;
  };
  if (found) {
    const selected = await checkbox(
      {
        message: 'Which folders are packages?',
        choices: dirs.map((dir) => ({
          value: dir,
          name: dir,
          checked: chosenBefore.has(dir),
          disabled: NAME_PATTERN.test(toChoice(dir).id) ? false : '(name is not a valid package id)',
        })),
        required: true,
        validate: (choices) => uniqueIds(choices.map((choice) => toChoice(choice.value))),
      },
      context,
    );
    return selected.map(toChoice);
  }
  const typed = await input(
    {
      message: 'Package folders, comma-separated (each folder is one package, named after it):',
      default: dirs.join(','),
      validate: (value) => {
        const chosen = value.split(',').map((dir) => dir.trim()).filter(Boolean).map(packageForDir);
        if (chosen.length === 0) return 'enter at least one folder';
        const bad = chosen.find((choice) => !NAME_PATTERN.test(choice.id));
        return bad ? `folder name '${bad.id}' is not a valid package id (lowercase letters, digits, '.', '_', '-')` : uniqueIds(chosen);
      },
    },
    context,
  );
  return typed.split(',').map((dir) => dir.trim()).filter(Boolean).map(toChoice);
}

async function askHooks(defaults: InitAnswers, region: string | undefined, context: PromptContext): Promise<Pick<InitAnswers, HookKind>> {
  const kinds = await checkbox<HookKind>(
    {
      message: 'Run after each release (none is fine):',
      choices: [
        { value: 'cloudfront', name: 'CloudFront invalidation of the channel index', checked: Boolean(defaults.cloudfront) },
        { value: 'sns', name: 'SNS notification (e.g. to push to devices)', checked: Boolean(defaults.sns) },
        { value: 'webhook', name: 'Webhook (POST the release event as JSON)', checked: Boolean(defaults.webhook) },
      ],
    },
    context,
  );
  const answers: Pick<InitAnswers, HookKind> = {};
  if (kinds.includes('cloudfront')) {
    answers.cloudfront = (
      await input(
        {
          message: 'CloudFront distribution id:',
          default: defaults.cloudfront,
          validate: checkedBy(INIT_CHECKS.cloudfront),
        },
        context,
      )
    ).trim();
  }
  if (kinds.includes('sns')) {
    answers.sns = (
      await input(
        {
          message: `SNS topic ARN${region ? ` (e.g. arn:aws:sns:${region}:123456789012:app-updates)` : ''}:`,
          default: defaults.sns ?? DEFAULT_SNS_TOPIC,
          validate: checkedBy(INIT_CHECKS.sns),
        },
        context,
      )
    ).trim();
  }
  if (kinds.includes('webhook')) {
    answers.webhook = (
      await input(
        { message: 'Webhook URL:', default: defaults.webhook, validate: checkedBy(INIT_CHECKS.webhook) },
        context,
      )
    ).trim();
  }
  return answers;
}
