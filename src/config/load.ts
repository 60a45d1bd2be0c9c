import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
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
}

/** Finds (or loads --config) the config and validates it, reporting every bad field at once. */
export async function loadConfig(explicitPath: string | undefined, cwd = process.cwd()): Promise<LoadedConfig> {
  // cosmiconfig's defaults have no `<name>.config.json`, the file `init` writes.
  const searchPlaces = [...getDefaultSearchPlaces(CONFIG_NAME), `${CONFIG_NAME}.config.json`];
  const explorer = cosmiconfig(CONFIG_NAME, {
    searchStrategy: 'project',
    // An empty config file is reported as empty, not skipped as if it were not there.
    ignoreEmptySearchPlaces: false,
    searchPlaces,
  });
  let found;
  try {
    found = explicitPath ? await explorer.load(resolve(cwd, explicitPath)) : await explorer.search(cwd);
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
    throw new ConfigNotFoundError(`no update-publish config found from ${cwd}; run 'update-publish init --yes' or pass --config PATH`);
  }
  const parsed = configSchema.safeParse(found.config);
  if (!parsed.success) {
    throw new UserError(`invalid config ${found.filepath}: ${describeIssues(parsed.error)}`);
  }
  const ignoredConfigs = explicitPath ? [] : await otherConfigsBeside(found.filepath, searchPlaces);
  return { config: parsed.data, configDir: dirname(found.filepath), configPath: found.filepath, ignoredConfigs };
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
  const lines = error.message.split('\n').map((line) => line.trim());
  const line = /^>\s*(\d+)\s*\|/m.exec(error.message)?.[1];
  const reason = lines.find((text) => text && !/^>?\s*\d*\s*\|/.test(text) && !/ Error in /.test(text)) ?? lines[0];
  const where = [error.filepath, line && `line ${line}`].filter(Boolean).join(', ');
  return `${where ? `${where}: ` : ''}${reason.replace(/ while parsing .*$/, '').replace(/ in JSON at position \d+/, '')}`;
}
