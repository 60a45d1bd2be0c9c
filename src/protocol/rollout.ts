/** Rollout buckets: 0–9999, so percentages keep two decimals. */
export const ROLLOUT_BUCKETS = 10_000;

/**
 * FNV-1a over UTF-16 code units, then murmur3's finaliser to spread the bits.
 * Synchronous and dependency-free so apps and edge functions compute the same
 * bucket as the CLI.
 */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * A percentage with at most two decimals as basis points (0–10000). Exact:
 * the publisher only accepts two decimals, so rounding the product never
 * crosses an integer. Devices never do this: they read the integer the
 * publisher fixed (rolloutThreshold), so no float rounding differs by platform.
 */
export const basisPointsOf = (rolloutPercent: number) => Math.round(rolloutPercent * 100);

/** The integer a device compares its bucket with: `rolloutBasisPoints`, or (documents written before it) the percentage's. */
export const rolloutThreshold = (rules: { rollout: number; rolloutBasisPoints?: number }) => rules.rolloutBasisPoints ?? basisPointsOf(rules.rollout);

/** A device's fixed bucket under a salt: the same device and salt, the same bucket, whatever the percentage. */
export const bucketOf = (salt: string, deviceId: string): number => hash32(`${salt}:${deviceId}`) % ROLLOUT_BUCKETS;

/** Inside the rollout: bucket < threshold, both integers, so raising the share only ever adds devices. */
export const inRolloutOf = (salt: string, deviceId: string, rules: { rollout: number; rolloutBasisPoints?: number }): boolean =>
  bucketOf(salt, deviceId) < rolloutThreshold(rules);

/*
 * Salts: one per package release, switch key and app release, so two 10 %
 * rollouts select different devices. Package ids and switch keys cannot hold
 * ':', so no salt of one kind equals one of another.
 */
export const releaseSalt = (packageId: string, version: string) => `${packageId}@${version}`;
export const switchSalt = (key: string) => `switch:${key}`;
export const appReleaseSalt = (platform: string, version: string) => `app:${platform}@${version}`;

/**
 * A device's fixed place in a release's rollout. The bucket depends only on the
 * device and the release, so raising the percentage only ever adds devices.
 */
export function rolloutBucket(deviceId: string, packageId: string, version: string): number {
  return bucketOf(releaseSalt(packageId, version), deviceId);
}

/** Inside the release's rollout (a bare number is a percentage). */
export function inRollout(deviceId: string, packageId: string, version: string, rules: { rollout: number; rolloutBasisPoints?: number } | number): boolean {
  return inRolloutOf(releaseSalt(packageId, version), deviceId, typeof rules === 'number' ? { rollout: rules } : rules);
}
