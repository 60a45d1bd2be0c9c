import { APP_RELEASES_MAX_BYTES } from './app-releases.js';
import { SWITCHES_MAX_BYTES } from './switches.js';

/**
 * What a device reads at most of each document (PROTOCOL.md "Size limits"):
 * a longer body is refused before it is parsed (an endless or swapped
 * document). Publishers refuse to write a channel document over its cap.
 */
export const DOCUMENT_LIMITS = {
  /** The channel index (configurable: FetchOptions.maxIndexBytes, fetch --max-index-size). */
  index: 16 * 1024 * 1024,
  /** A manifest named by an older index that did not list its size. */
  manifest: 64 * 1024 * 1024,
  whitelistMeta: 1024 * 1024,
  whitelistShard: 8 * 1024 * 1024,
  switches: SWITCHES_MAX_BYTES,
  appReleases: APP_RELEASES_MAX_BYTES,
} as const;

/** Room a device allows past a publisher's cap: the signatures added after the cap was checked. */
export const SIGNATURES_ROOM = 8 * 1024;
