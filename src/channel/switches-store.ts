import { settleUnlessReplayed } from './document-bindings.js';
import { switchesKey } from '../protocol/layout.js';
import { emptySwitches, parseSwitches, SWITCHES_MAX_BYTES, type SwitchesDocument } from '../protocol/switches.js';
import type { DocumentKind } from './versioned-document.js';

/**
 * `channels/<channel>/switches.json` as publishers keep it: every version
 * kept (for `switch rollback --to`), a history log beside it. Reading and
 * writing go through channel/versioned-document.ts with this kind.
 */
export const SWITCHES: DocumentKind<SwitchesDocument> = {
  what: 'switches',
  key: switchesKey,
  parse: parseSwitches,
  empty: emptySwitches,
  maxBytes: SWITCHES_MAX_BYTES,
  capHint: "remove keys or variants no longer needed ('update-publish switch rm <key> [--variant N]')",
  bound: 'switches',
  settle: settleUnlessReplayed('switches', switchesKey),
  snapshots: true,
};
