import type { AccessConfig } from '../config/access-schema.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { UserError } from '../errors.js';
import { ENV, type GlobalOptions } from './context.js';

/** The config's `access` settings, or a usage error saying how to add them. */
export async function loadAccessConfig(flags: GlobalOptions): Promise<LoadedConfig & { access: AccessConfig }> {
  const loaded = await loadConfig(flags.config ?? (process.env[ENV.config] || undefined));
  const { access } = loaded.config;
  if (!access) {
    throw new UserError(`${loaded.configPath} has no "access" settings; add "access": { "keyPairId", "privateKey", "publicKey", "baseUrl", "scope" } (docs/private-content.md)`);
  }
  return { ...loaded, access };
}
