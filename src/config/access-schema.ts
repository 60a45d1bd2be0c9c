import { z } from 'zod';
import { ENV_REF_PATTERN } from '../env-ref.js';
import { ACCESS_SCOPES } from '../protocol/private-access.js';

/** CloudFront public key ids (K…) and legacy key pair ids (APKA…): upper-case letters and digits. */
const KEY_PAIR_ID = /^[A-Z0-9]{8,64}$/;

/** A key file path, or env:NAME holding the PEM. */
const keySetting = (what: string) =>
  z
    .string()
    .min(1, `${what} must be a PEM file path or env:NAME`)
    .refine((value) => !value.startsWith('env:') || ENV_REF_PATTERN.test(value), `${what} "env:…" must name a variable: letters, digits and _`)
    .refine((value) => !value.includes('-----BEGIN'), `${what} must be a file path or env:NAME, never the PEM itself (the config is committed)`);

/**
 * Private content (`access`): the CloudFront key pair whose trusted key group
 * guards the private paths, the distribution's base URL, and what is private.
 */
export const accessConfigSchema = z.strictObject({
  /** The id CloudFront gave the public key (CreatePublicKey). */
  keyPairId: z.string().regex(KEY_PAIR_ID, 'keyPairId must be the id CloudFront gave the public key, e.g. K2JCJMDEHXQW5F'),
  /** RSA 2048 private key (PEM, PKCS#1 or PKCS#8): signs credentials. */
  privateKey: keySetting('privateKey').optional(),
  /** The public key CloudFront holds: `serve --private` checks signatures with it. */
  publicKey: keySetting('publicKey').optional(),
  /** The URL the store is served at (the distribution, with the store's prefix). */
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'baseUrl must be the http(s) URL the store is served at, e.g. https://d111111abcdef8.cloudfront.net/updates' })
    .refine((url) => !/[?#*]/.test(url), 'baseUrl must have no query, fragment or wildcard')
    .transform((url) => url.replace(/\/+$/, '')),
  scope: z.enum(ACCESS_SCOPES, { error: 'scope must be "packages" (package objects need credentials) or "all" (every object does)' }).default('packages'),
});

export type AccessConfig = z.infer<typeof accessConfigSchema>;
