import { UserError } from '../errors.js';
import { normalizePlatform } from '../protocol/rule-values.js';
import { closestName } from '../suggest.js';

/** Platforms every project knows; the config's `platforms` adds others (e.g. tvos). */
export const KNOWN_PLATFORMS = ['ios', 'android', 'harmony', 'web', 'windows', 'macos', 'linux'] as const;

/**
 * A platform outside the known list is refused before anything is written: `andriod` would
 * otherwise become a rule no device ever matches. Names are compared as devices send them
 * (lowercased).
 */
export function assertKnownPlatforms(platforms: readonly string[] | undefined, configured: readonly string[] = []): void {
  const known = [...KNOWN_PLATFORMS, ...configured.map(normalizePlatform)];
  for (const platform of platforms ?? []) {
    const name = normalizePlatform(platform);
    if (known.includes(name)) continue;
    const closest = closestName(name, known);
    throw new UserError(
      `unknown platform '${platform}';${closest ? ` did you mean '${closest}'?` : ''} known platforms: ${known.join(', ')}; add others under "platforms" in the config`,
    );
  }
}
