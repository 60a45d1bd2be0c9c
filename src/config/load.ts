import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { cosmiconfig, getDefaultSearchPlaces } from 'cosmiconfig';
import { UserError } from '../errors.js';
import { configSchema, describeIssues, type Config } from './schema.js';

export const CONFIG_NAME = 'update-publish';

/** No config file was found searching up from the folder (and none was named). */
export class ConfigNotFoundError extends UserError {}

export interface LoadedConfig {
  config: Config;
  /** Relative paths in the config (package dirs, a folder store, key files) are relative to this. */
  configDir: string;
  configPath: string;
  /** Other config files in the config's folder that lost to it (cosmiconfig takes the first it finds). */
  ignoredConfigs?: string[];
  /** Found in a folder above the one the command ran in (said on stderr: that file's code runs). */
  foundAbove?: boolean;
}

/**
 * Where the search for a config stops going up: the repository root (the
 * nearest folder holding .git), else the user's home, else the folder itself.
 * A config (a .js one runs code) in a parent folder outside the project, such
 * as a shared /tmp or a checkout's parent, is never picked up.
 */
export async function configSearchRoot(cwd: string, home = homedir()): Promise<string> {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (await stat(join(dir, '.git')).then(() => true, () => false)) return dir;
    if (dir === resolve(home) || dirname(dir) === dir) break;
  }
  const fromHome = relative(resolve(home), resolve(cwd));
  return fromHome === '' || (!fromHome.startsWith('..') && !fromHome.startsWith(sep)) ? resolve(home) : resolve(cwd);
}

/** Finds (or loads --config) the config from `cwd` up (never past `home`) and validates it, reporting every bad field at once. */
export async function loadConfig(explicitPath: string | undefined, cwd: string, home = homedir()): Promise<LoadedConfig> {
  // cosmiconfig's defaults have no `<name>.config.json`, the file `init` writes.
  const searchPlaces = [...getDefaultSearchPlaces(CONFIG_NAME), `${CONFIG_NAME}.config.json`];
  const explorer = cosmiconfig(CONFIG_NAME, {
    // One folder at a time, up to configSearchRoot: cosmiconfig's own walk goes on to the home folder or the file system's root.
    searchStrategy: 'none',
    // An empty config file is reported as empty, not skipped as if it were not there.
    ignoreEmptySearchPlaces: false,
    searchPlaces,
  });
  let found;
  try {
    found = explicitPath ? await explorer.load(resolve(cwd, explicitPath)) : await searchUp(cwd, home, (dir) => explorer.search(dir));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`config file ${explicitPath} does not exist; fix --config or run 'update-publish init --yes'`);
    // cosmiconfig compiles .ts configs with the project's own TypeScript, which update-publish does not ship.
    if (code === 'ERR_MODULE_NOT_FOUND' && /'typescript'/.test((error as Error).message)) {
      throw new UserError(`a .ts config needs TypeScript to load; run 'npm install --save-dev typescript', or use update-publish.config.json or .mjs`);
    }
    throw new UserError(`cannot read the config ${describeSyntaxError(error as Error)}; fix its syntax`);
  }
  if (found?.isEmpty) throw new UserError(`config ${found.filepath} is empty; fill it in, or run 'update-publish init --yes --force'`);
  if (!found) {
    const root = await configSearchRoot(cwd, home);
    const searched = root === resolve(cwd) ? `from ${cwd} (no repository or home folder above it, so no parent was searched)` : `from ${cwd} up to ${root}`;
    throw new ConfigNotFoundError(`no update-publish config found ${searched}; run 'update-publish init --yes' or pass --config PATH`);
  }
  const parsed = configSchema.safeParse(found.config);
  if (!parsed.success) {
    throw new UserError(`invalid config ${found.filepath}: ${describeIssues(parsed.error)}`);
  }
  const ignoredConfigs = explicitPath ? [] : await otherConfigsBeside(found.filepath, searchPlaces);
  const configDir = dirname(found.filepath);
  return { config: parsed.data, configDir, configPath: found.filepath, ignoredConfigs, foundAbove: !explicitPath && configDir !== resolve(cwd) };
}

/** The first config found in cwd or a folder above it, up to configSearchRoot. */
async function searchUp<T>(cwd: string, home: string, searchIn: (dir: string) => Promise<T | null>): Promise<T | null> {
  const root = await configSearchRoot(cwd, home);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const found = await searchIn(dir);
    if (found || dir === root || dirname(dir) === dir) return found;
  }
}

/** Config files in the same folder that the search would have taken had the first not been there. */
async function otherConfigsBeside(chosen: string, searchPlaces: string[]): Promise<string[]> {
  const others: string[] = [];
  for (const place of searchPlaces) {
    const path = join(dirname(chosen), place);
    if (path === chosen) continue;
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    // package.json counts only with an "update-publish" key.
    if (place === 'package.json') {
      try {
        if (!Object.hasOwn(JSON.parse(text) ?? {}, CONFIG_NAME)) continue;
      } catch {
        continue;
      }
    }
    others.push(path);
  }
  return others;
}

/**
 * cosmiconfig's parse errors put the reason under a code frame: the file, the
 * line (from the frame's `>` marker) and the reason, on one line.
 */
function describeSyntaxError(error: Error & { filepath?: string }): string {
  // The code frame is coloured wherever its highlighter sees colour support (CI=true does): the markers sit among escapes.
  const message = stripVTControlCharacters(error.message);
  const lines = message.split('\n').map((line) => line.trim());
  const line = /^>\s*(\d+)\s*\|/m.exec(message)?.[1];
  const reason = lines.find((text) => text && !/^>?\s*\d*\s*\|/.test(text) && !/ Error in /.test(text)) ?? lines[0];
  const where = [error.filepath, line && `line ${line}`].filter(Boolean).join(', ');
  return `${where ? `${where}: ` : ''}${reason.replace(/ while parsing .*$/, '').replace(/ in JSON at position \d+/, '')}`;
}
