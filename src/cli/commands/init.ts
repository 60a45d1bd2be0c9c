import { copyFile, readdir, stat, writeFile, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { outputFor, type GlobalOptions } from '../context.js';

interface InitFlags extends GlobalOptions {
  force?: boolean;
}

export const TEMPLATES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../templates');
export const CONFIG_FILE = 'update-publish.config.json';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(`write a starter ${CONFIG_FILE} in the current folder`)
    .option('-y, --yes', 'accept the defaults without asking')
    .option('--force', 'overwrite an existing config')
    .addHelpText('after', `\nExamples:\n  $ update-publish init --yes\n  $ update-publish init --yes --force --json`)
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<InitFlags>();
      const output = outputFor(flags);
      if (!flags.yes) {
        throw new UserError('init needs answers: pass --yes to accept the defaults');
      }
      const target = resolve(CONFIG_FILE);
      if (!flags.force && (await stat(target).catch(() => null))) {
        throw new UserError(`${target} already exists; edit it, or pass --force to overwrite it`);
      }
      const config = JSON.parse(await readFile(join(TEMPLATES_DIR, CONFIG_FILE), 'utf8'));
      const found = await packageFolders(resolve('assets'));
      if (found.length) {
        config.packages = Object.fromEntries(found.map((name) => [name, { dir: `assets/${name}`, include: ['**/*'], exclude: ['**/.DS_Store'] }]));
      }
      await writeFile(target, `${JSON.stringify(config, null, 2)}\n`);
      output.result({ config: target, packages: Object.keys(config.packages) }, () =>
        `wrote ${target}\nnext: put files under ${Object.values<{ dir: string }>(config.packages).map((p) => p.dir).join(', ')} and run 'npx update-publish publish'`,
      );
    });
}

/** Subfolders of assets/ whose names are valid package ids: each becomes a package. */
async function packageFolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory() && /^[a-z0-9][a-z0-9._-]*$/.test(entry.name)).map((entry) => entry.name);
}
