import { z } from 'zod';
import {
  emptyChannelDocument,
  parseChannelDocumentJson,
  validateChannelDocument,
  versionedChannelDocumentSchema,
  type VersionedChannelDocument,
} from './channel-document.js';
import { targetingRulesSchema } from './schemas.js';
import type { TargetingRules } from './types.js';

/**
 * `channels/<channel>/switches.json`: remote switches that change client
 * logic. A key has a default value and an ordered list of targeted variants;
 * a device gets the value of the first variant whose rules match it, else the
 * default (client/switches.ts).
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const SWITCH_TYPES = ['boolean', 'number', 'string', 'json'] as const;
/** `json` is any other value: an object, an array or null. */
export type SwitchType = (typeof SWITCH_TYPES)[number];

export interface SwitchVariant {
  value: JsonValue;
  rules: TargetingRules;
}

export interface Switch {
  /** Fixed at the key's first set; absent = any JSON value. */
  type?: SwitchType;
  default: JsonValue;
  /** First match wins. */
  variants: SwitchVariant[];
}

export interface SwitchesDocument extends VersionedChannelDocument {
  switches: Record<string, Switch>;
}

/** Devices download the document at every start: it stays small. */
export const SWITCHES_MAX_BYTES = 128 * 1024;

/** Letters, digits, '.', '_', '-' (no ':', which the rollout salt uses), up to 128, starting with a letter. */
export const SWITCH_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;

export function switchTypeOf(value: JsonValue): SwitchType {
  const type = typeof value;
  return type === 'boolean' || type === 'number' || type === 'string' ? type : 'json';
}

const switchSchema = z
  .looseObject({
    type: z.enum(SWITCH_TYPES).optional(),
    default: z.json(),
    variants: z.array(z.looseObject({ value: z.json(), rules: targetingRulesSchema })),
  })
  .superRefine((entry, context) => {
    if (entry.type === undefined) return;
    const values = [entry.default, ...entry.variants.map((variant) => variant.value)] as JsonValue[];
    if (values.some((value) => switchTypeOf(value) !== entry.type)) context.addIssue({ code: 'custom', message: `a value is not of the key's type ${entry.type}` });
  });

const switchesSchema = versionedChannelDocumentSchema.extend({
  switches: z.record(z.string().regex(SWITCH_KEY_PATTERN, 'not a switch key'), switchSchema),
});

export const emptySwitches = (channel: string): SwitchesDocument => ({ ...emptyChannelDocument(channel), switches: {} });

/** The one reader of a switches document, already parsed from JSON (devices check its signatures on that form first). */
export const validateSwitches = (document: unknown, key: string, channel: string): SwitchesDocument =>
  validateChannelDocument<SwitchesDocument>(document, key, channel, switchesSchema);

/** A stored switches document, read as publishers read it. */
export const parseSwitches = (body: Buffer, key: string, channel: string): SwitchesDocument => validateSwitches(parseChannelDocumentJson(body, key), key, channel);
