import { IntegrityError } from './errors.js';

/**
 * PROTOCOL.md §3.1 `documents`: the channel index names the version of the
 * switches and app-releases documents it was written with, as TUF's snapshot
 * does, so a device that read the index refuses any other copy of them: an
 * older signed one put back in the store (a replay) included. Version 0 is
 * "no such document" (a device reads an absent one as version 0).
 */
export const BOUND_DOCUMENTS = ['switches', 'appReleases'] as const;
export type BoundDocument = (typeof BOUND_DOCUMENTS)[number];

export interface DocumentBinding {
  version: number;
}

export type DocumentBindings = Partial<Record<BoundDocument, DocumentBinding>>;

/**
 * The version the index binds; undefined when it binds none (an index written
 * before documents were bound, or without an entry for it): the document is then read
 * unbound, as before. The index's schema has checked the entry's shape.
 */
export function boundDocumentVersion(index: { documents?: DocumentBindings }, document: BoundDocument): number | undefined {
  const bindings = index.documents;
  if (!bindings || !Object.hasOwn(bindings, document)) return undefined;
  return bindings[document]?.version;
}

/** The one check devices and `verify` make: the document read is the version the index names. */
export function assertBoundDocument(index: { documents?: DocumentBindings; version?: number }, name: BoundDocument, document: { version: number }, key: string): void {
  const bound = boundDocumentVersion(index, name);
  if (bound === undefined || bound === document.version) return;
  const found = document.version === 0 ? 'absent' : `version ${document.version}`;
  const named = bound === 0 ? 'none' : `version ${bound}`;
  const why =
    document.version < bound
      ? 'an older copy was put back in the store (a replay) or removed'
      : 'it is not the one the index was written with (a write still in progress, or an older index)';
  throw new IntegrityError(key, `is ${found}, but the channel index (version ${index.version ?? 0}) names ${named}: ${why}`);
}

/** The bindings an index written now carries: the stored version of each document (0: none). */
export function documentBindings(versions: Record<BoundDocument, number>): Required<DocumentBindings> {
  return { switches: { version: versions.switches }, appReleases: { version: versions.appReleases } };
}
