import { z } from 'zod';
import { parseDocumentJson } from './document-json.js';
import { withoutSignatures } from './document-signature.js';
import { IntegrityError } from './errors.js';
import { schemaProblem, timeSchema } from './schemas.js';
import { SCHEMA_VERSION } from './types.js';

/**
 * What every versioned channel document (switches.json, app-releases.json)
 * starts with: the channel index's freshness fields. `version` is one more on
 * every write, so a reader (a device, a DynamoDB item) can tell a newer state
 * from an older one without clocks; `expires` bounds how long a frozen copy works.
 */
export interface VersionedChannelDocument {
  schemaVersion: number;
  channel: string;
  /** 0 before the first write, then one more on every write. */
  version: number;
  updatedAt: string;
  /** Devices refuse the document at or after this instant; every write (and `refresh`) sets a fresh one. */
  expires?: string;
}

export const versionedChannelDocumentSchema = z.looseObject({
  schemaVersion: z.number().int(),
  channel: z.string(),
  version: z.number().int().nonnegative(),
  updatedAt: z.string(),
  expires: timeSchema.optional(),
});

export const emptyChannelDocument = (channel: string): VersionedChannelDocument => ({
  schemaVersion: SCHEMA_VERSION,
  channel,
  version: 0,
  updatedAt: new Date(0).toISOString(),
});

/** The JSON of a stored versioned channel document, not yet checked (a reader checks its signatures on this form). */
export function parseChannelDocumentJson(body: Buffer, key: string): unknown {
  try {
    return parseDocumentJson(body);
  } catch (error) {
    throw new IntegrityError(key, `is not valid JSON (${(error as Error).message}); restore it from its history folder or your backup`);
  }
}

/**
 * The one reader of a versioned channel document, for publishers and devices
 * alike: a schema version this code knows, the document's own schema, and the
 * channel it names; returned without its signatures.
 */
export function validateChannelDocument<T extends VersionedChannelDocument>(document: unknown, key: string, channel: string, schema: z.ZodType): T {
  const schemaVersion = (document as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof schemaVersion === 'number' && schemaVersion > SCHEMA_VERSION) {
    throw new IntegrityError(key, `has schema version ${schemaVersion}; upgrade update-publish to read it`);
  }
  const problem = schemaProblem(schema, document);
  if (problem) throw new IntegrityError(key, `is malformed at ${problem}; restore it from its history folder or your backup`);
  const parsed = withoutSignatures(document as T);
  assertChannelBinding(parsed, key, channel);
  return parsed as T;
}

/**
 * The one channel-binding rule (PROTOCOL.md, `channel` of every channel
 * document): a document names the channel it was written for, so a copy
 * served under another channel is refused, by devices and publishers alike.
 */
export function assertChannelBinding(document: { channel: string }, key: string, channel: string): void {
  if (document.channel !== channel) {
    throw new IntegrityError(key, `names channel '${document.channel}', not '${channel}': it was copied from another channel; restore it from its history or your backup`);
  }
}

/** What every channel document devices poll carries (the index's `version` is optional: indexes written before it have none). */
export interface StampedFields {
  channel: string;
  version?: number;
  updatedAt: string;
  expires?: string;
}

/**
 * The one stamping rule (PROTOCOL.md "Freshness"): every write is one
 * `version` above the stored document and expires `lifetimeMs` from now, so
 * devices can refuse an older copy (rollback) or a frozen one (freeze).
 */
export function stampNextVersion<T extends StampedFields>(current: T, changed: T, lifetimeMs: number, now: Date): T & { version: number; expires: string } {
  return {
    ...changed,
    version: (current.version ?? 0) + 1,
    updatedAt: now.toISOString(),
    expires: new Date(now.getTime() + lifetimeMs).toISOString(),
  };
}
