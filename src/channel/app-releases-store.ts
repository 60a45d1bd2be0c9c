import { settleUnlessReplayed } from './document-bindings.js';
import { APP_RELEASES_MAX_BYTES, emptyAppReleases, parseAppReleases, type AppReleasesDocument } from '../protocol/app-releases.js';
import { appReleasesKey } from '../protocol/layout.js';
import type { DocumentKind } from './versioned-document.js';

/**
 * `channels/<channel>/app-releases.json` as publishers keep it: a history log
 * beside it. Reading and writing go through channel/versioned-document.ts with this kind.
 */
export const APP_RELEASES: DocumentKind<AppReleasesDocument> = {
  what: 'app releases',
  key: appReleasesKey,
  parse: parseAppReleases,
  empty: emptyAppReleases,
  maxBytes: APP_RELEASES_MAX_BYTES,
  capHint: "remove app releases devices no longer need ('update-publish app-release rm <platform>@<version>')",
  bound: 'appReleases',
  settle: settleUnlessReplayed('appReleases', appReleasesKey),
  snapshots: false,
};
