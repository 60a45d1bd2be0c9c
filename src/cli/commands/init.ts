import type { Environment } from '../../environment.js';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import {
  ASSETS_DIR,
  buildInitConfig,
  KEYS_DIR,
  packageForDir,
  parsePackageList,
  type InitAnswers,
  type InitTemplate,
} from '../../config/init-config.js';
import { configSchema, describeIssues, NAME_PATTERN } from '../../config/schema.js';
import { envRefName } from '../../env-ref.js';
import { UserError } from '../../errors.js';
import { loadPrivateKey, writeSigningKeyPair } from '../../keys/signing-keys.js';
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../protocol/signature.js';
import { outputFor, type GlobalOptions } from '../context.js';
import type { Output } from '../output.js';
import type { Session } from '../session.js';
import { makeDirectory } from '../../make-dir.js';
import { ensureGitignored, LOCAL_STATE_DIR } from '../../config/gitignore.js';
import { isS3Store } from '../../config/init-config.js';

interface InitFlags extends GlobalOptions {
  force?: boolean;
  region?: string;
  endpoint?: string;
  packages?: string;
  channel?: string;
  signing?: boolean;
  cloudfront?: string;
  sns?: string;
  webhook?: string;
}

export const TEMPLATES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../templates');
export const CONFIG_FILE = 'update-publish.config.json';
/** Top-level folders that are never content. */
const NOT_CONTENT = new Set(['node_modules', 'releases', KEYS_DIR, 'update-publish-out', 'dist', 'build']);

export function registerInit(program: Command, session: Session): void {
  program
    .command('init')
    .description(`write a starter ${CONFIG_FILE} in the current folder (asks at a terminal; --yes for defaults)`)
    .option('-y, --yes', 'do not ask: use the flags given and defaults for the rest')
    .option('--force', 'overwrite an existing config')
    .option('--region <region>', 'S3 region of the bucket (with --store s3://…)')
    .option('--endpoint <url>', 'S3-compatible endpoint: MinIO, R2, Ceph… (with --store s3://…)')
    .option('--packages <list>', `package folders: names under ${ASSETS_DIR}/ (maps,levels) or id=dir pairs (default: every folder in ${ASSETS_DIR}/)`)
    .option('--channel <name>', 'default channel (default: production)')
    .option('--signing', `generate an Ed25519 signing key pair in ${KEYS_DIR}/ and sign every document with it (the default)`)
    .option('--no-signing', 'leave the store unsigned (devices then cannot tell a tampered mirror)')
    .option('--cloudfront <distributionId>', 'invalidate this CloudFront distribution after each release')
    .option('--sns <topicArn>', 'publish each release to this SNS topic (or env:NAME)')
    .option('--webhook <url>', 'POST each release event to this URL')
    .addHelpText(
      'after',
      `
The store is the global --store option: a folder path (default ./releases) or s3://bucket/prefix.

Examples:
  $ update-publish init                                      # wizard, at a terminal
  $ update-publish init --yes                                # defaults: folder store, every folder in ${ASSETS_DIR}/
  $ update-publish init --yes --store s3://my-bucket/updates --region eu-west-1 --cloudfront E1ABCDEF2GHIJK
  $ update-publish init --yes --store s3://content/updates --endpoint http://localhost:9000 --packages maps=art/maps --json`,
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<InitFlags>();
      const output = outputFor(session, flags);
      const target = resolve(session.cwd, flags.config ?? CONFIG_FILE);
      const projectDir = dirname(target);
      if (!flags.force && (await stat(target).catch(() => null))) {
        throw new UserError(`${target} already exists; edit it, or pass --force to overwrite it`);
      }
      if (!flags.yes && !output.interactive) {
        throw new UserError('init needs answers and there is no terminal to ask at; pass --yes (with --store, --packages… as needed) to use defaults');
      }
      const template = JSON.parse(await readFile(join(TEMPLATES_DIR, CONFIG_FILE), 'utf8')) as InitTemplate;
      const candidates = await packageCandidates(projectDir);
      const defaults = defaultAnswers(flags, template, candidates);
      // The wizard (and its prompt library) loads only when a person is asked.
      const answers = flags.yes ? defaults : await (await import('../init-wizard.js')).runInitWizard(defaults, candidates, session);

      const config = buildInitConfig(template, answers);
      const checked = configSchema.safeParse(config);
      if (!checked.success) throw new UserError(`init cannot write this config: ${describeIssues(checked.error)}; fix the flag or answer`);
      const signing = answers.signing ? await ensureSigningKey(join(projectDir, KEYS_DIR), output, session.env) : null;
      await makeDirectory(projectDir);
      await writeFile(target, formatConfig(config), { flag: flags.force ? 'w' : 'wx' });
      const gitignored = await ensureGitignored(projectDir, notToCommit(answers.store, projectDir));
      const toCommit = [relative(projectDir, target), ...answers.packages.map(({ dir }) => `${dir}/`), ...(signing ? [`${KEYS_DIR}/${PUBLIC_KEY_FILE}`] : [])];

      const next = await nextSteps(answers, template.rules, projectDir, flags.config ? ` --config ${relative(session.cwd, target)}` : '');
      output.result(
        {
          config: target,
          store: answers.store,
          channel: answers.channel,
          packages: answers.packages,
          hooks: checked.data.hooks.map((hook) => hook.type),
          signing,
          gitignored,
          toCommit,
          next,
        },
        () => renderInit(target, answers, signing, { gitignored, toCommit }, next, session.cwd),
      );
    });
}

/** Pretty JSON with short arrays of plain values on one line, like the templates. */
function formatConfig(config: unknown): string {
  // JSON strings never hold a raw newline, so ",\n" only ever separates items.
  const json = JSON.stringify(config, null, 2).replace(/\[\n\s+([^[\]{}]*?)\n\s*\]/g, (_all, items: string) => `[${items.split(/,\n\s+/).join(', ')}]`);
  return `${json}\n`;
}

/** Defaults for every answer: the flags given, else the template's values (packages: the folders found). */
function defaultAnswers(flags: InitFlags, template: InitTemplate, candidates: string[]): InitAnswers {
  const assets = candidates.filter((dir) => dir.startsWith(`${ASSETS_DIR}/`)).map(packageForDir);
  const templatePackages = Object.entries(template.packages).map(([id, { dir }]) => ({ id, dir }));
  return {
    store: flags.store ?? template.store,
    region: flags.region,
    endpoint: flags.endpoint,
    packages: flags.packages ? parsePackageList(flags.packages) : assets.length > 0 ? assets : templatePackages,
    channel: flags.channel ?? template.channel,
    // Signed by default: an unsigned store cannot protect devices from a hostile mirror.
    signing: flags.signing !== false,
    cloudfront: flags.cloudfront,
    sns: flags.sns,
    webhook: flags.webhook,
  };
}

/** Folders that could be packages: those in assets/, else the project's top-level ones. */
async function packageCandidates(projectDir: string): Promise<string[]> {
  const subfolders = async (dir: string) =>
    (await readdir(join(projectDir, dir), { withFileTypes: true }).catch(() => []))
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort();
  const assets = (await subfolders(ASSETS_DIR)).filter((name) => NAME_PATTERN.test(name));
  if (assets.length > 0) return assets.map((name) => `${ASSETS_DIR}/${name}`);
  return (await subfolders('.')).filter((name) => !NOT_CONTENT.has(name) && name !== ASSETS_DIR);
}

interface SigningSummary {
  privateKey: string;
  publicKey: string;
  keyId: string;
  created: boolean;
}

/** A key pair in keys/: an existing private key is kept (replacing it would strand every device that trusts it). */
async function ensureSigningKey(keysDir: string, output: Output, env: Environment): Promise<SigningSummary> {
  const privateKey = join(keysDir, PRIVATE_KEY_FILE);
  const publicKey = join(keysDir, PUBLIC_KEY_FILE);
  if (await stat(privateKey).catch(() => null)) {
    output.info(`keeping the existing signing key ${privateKey}`);
    return { privateKey, publicKey, keyId: (await loadPrivateKey(privateKey, keysDir, env)).keyId, created: false };
  }
  const written = await writeSigningKeyPair(keysDir);
  // Keeps the private key out of git even before anyone edits .gitignore.
  await writeFile(join(keysDir, '.gitignore'), `${PRIVATE_KEY_FILE}\n`, { flag: 'wx' }).catch(() => {});
  return { privateKey: written.privateKeyPath, publicKey: written.publicKeyPath, keyId: written.keyId, created: true };
}

/** What to do next, in order: content, environment, then the first publish. */
async function nextSteps(answers: InitAnswers, presets: Record<string, unknown>, projectDir: string, configFlag: string): Promise<string[]> {
  const steps: string[] = [];
  const empty = [];
  for (const { dir } of answers.packages) if (!(await stat(join(projectDir, dir)).catch(() => null))) empty.push(dir);
  if (empty.length > 0) steps.push(`put the package files under ${empty.join(', ')}`);
  const envNames = [answers.sns, answers.cloudfront, answers.webhook].map((value) => value && envRefName(value)).filter(Boolean);
  if (envNames.length > 0) steps.push(`export ${envNames.join(', ')} (the config reads ${envNames.length === 1 ? 'it' : 'them'} as env:NAME)`);
  if (answers.signing) steps.push(`ship ${KEYS_DIR}/${PUBLIC_KEY_FILE} in the app; keep ${KEYS_DIR}/${PRIVATE_KEY_FILE} secret (CI: signing.privateKey "env:NAME")`);
  // The starter presets may name whitelists: none exists in a new store yet.
  for (const [preset, rules] of Object.entries(presets)) {
    const names = (rules as { whitelist?: string[] }).whitelist ?? [];
    if (names.length) steps.push(`before 'publish --rules ${preset}': upload the whitelist${names.length === 1 ? '' : 's'} it names: ${names.map((name) => `npx update-publish whitelist upload ${name} <file of device ids>`).join(', ')}`);
  }
  steps.push(`npx update-publish${configFlag} publish --dry-run`, `npx update-publish${configFlag} publish`);
  return steps;
}

/** What a project keeps out of git: the local caches, and a folder store inside the project (it is the store, not source). */
function notToCommit(store: string, projectDir: string): string[] {
  const entries = [LOCAL_STATE_DIR];
  if (isS3Store(store) || /^[a-z][a-z0-9+.-]*:/i.test(store)) return entries;
  const inside = relative(projectDir, resolve(projectDir, store)).split(sep).join('/');
  if (inside && !inside.startsWith('..') && !isAbsolute(inside)) entries.push(`/${inside}/`);
  return entries;
}

function renderInit(target: string, answers: InitAnswers, signing: SigningSummary | null, git: { gitignored: string[]; toCommit: string[] }, next: string[], cwd: string): string {
  return [
    `wrote ${target}`,
    `  store:    ${answers.store}${answers.endpoint ? ` via ${answers.endpoint}` : ''}`,
    `  channel:  ${answers.channel}`,
    `  packages: ${answers.packages.map(({ id, dir }) => `${id} (${dir})`).join(', ')}`,
    ...(signing ? [`  signing:  key ${signing.keyId}, public key ${relative(cwd, signing.publicKey)}`] : []),
    ...(git.gitignored.length > 0 ? [`  .gitignore: added ${git.gitignored.join(', ')}`] : []),
    `  commit:   ${git.toCommit.join(', ')}${signing ? ` (never ${KEYS_DIR}/${PRIVATE_KEY_FILE}: ${KEYS_DIR}/.gitignore keeps it out)` : ''}`,
    'next:',
    ...next.map((step, index) => `  ${index + 1}. ${step}`),
  ].join('\n');
}
