import type { AccessConfig } from '../config/access-schema.js';
import type { LoadedConfig } from '../config/load.js';
import { UserError } from '../errors.js';
import { loadSessionConfig, type GlobalOptions } from './context.js';
import type { Session } from './session.js';

/** The config's `access` settings, or a usage error saying how to add them. */
export async function loadAccessConfig(session: Session, flags: GlobalOptions): Promise<LoadedConfig & { access: AccessConfig }> {
  const loaded = await loadSessionConfig(session, flags);
  const { access } = loaded.config;
  if (!access) {
    throw new UserError(`${loaded.configPath} has no "access" settings; add "access": { "keyPairId", "privateKey", "publicKey", "baseUrl", "scope" } (docs/private-content.md)`);
  }
  return { ...loaded, access };
}
