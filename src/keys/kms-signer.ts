import type { Environment } from '../environment.js';
import { awsClientSettings } from '../aws-settings.js';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { trustedKeyFromSpki, type DocumentSignature } from '../protocol/document-signature.js';
import type { DocumentSigner } from './signers.js';

/** KMS signs at most 4096 bytes sent raw; above, ECDSA is asked with the SHA-256 digest instead. */
const KMS_RAW_MESSAGE_LIMIT = 4096;

/**
 * A key that never leaves AWS KMS: `Sign` with ECDSA_SHA_256 (ECC_NIST_P256;
 * documents above 4 KiB sent as their SHA-256 digest), or ED25519_SHA_512 over the raw bytes
 * (ECC_NIST_EDWARDS25519, documents up to 4 KiB) where KMS offers it. The SDK's
 * standard settings reach it, read from the run's environment (AWS_REGION,
 * AWS_PROFILE, AWS_ENDPOINT_URL_KMS or AWS_ENDPOINT_URL, the access keys).
 */
export async function kmsSigner(keyArn: string, env: Environment): Promise<DocumentSigner> {
  if (!keyArn) throw new UserError('signing.privateKey: kms: must name a key, e.g. "kms:arn:aws:kms:eu-west-1:111122223333:key/…"');
  const source = `KMS key ${keyArn}`;
  const client = new KMSClient(awsClientSettings(env, 'KMS'));
  const described = await client.send(new GetPublicKeyCommand({ KeyId: keyArn })).catch((error: Error) => {
    throw new UserError(`${source}: its public key could not be read (${error.name}: ${error.message}); check the ARN, the region and the credentials (kms:GetPublicKey)`);
  });
  if (described.KeyUsage !== 'SIGN_VERIFY') throw new UserError(`${source} is a ${described.KeyUsage ?? 'non-signing'} key, not SIGN_VERIFY; create an ECC_NIST_P256 signing key`);
  // Older KMS implementations (and moto) name the spec by its deprecated field only.
  const spec = (described.KeySpec ?? described.CustomerMasterKeySpec) as string | undefined;
  const algorithm = spec === 'ECC_NIST_P256' ? 'ECDSA_SHA_256' : spec === 'ECC_NIST_EDWARDS25519' ? 'ED25519_SHA_512' : undefined;
  if (!algorithm || !described.SigningAlgorithms?.includes(algorithm)) {
    throw new UserError(`${source} is a ${spec ?? 'unknown'} key; devices verify ECDSA P-256 (ECC_NIST_P256, ECDSA_SHA_256) and Ed25519: use one of those`);
  }
  const trusted = trustedKeyFromSpki(new Uint8Array(described.PublicKey!));
  return {
    trusted,
    source,
    async sign(bytes): Promise<DocumentSignature> {
      const ecdsa = algorithm === 'ECDSA_SHA_256';
      // Small documents go raw (KMS hashes them); larger ones as their SHA-256 digest, the same signature.
      const raw = bytes.length <= KMS_RAW_MESSAGE_LIMIT;
      if (!ecdsa && !raw) {
        throw new UserError(`${source}: an Ed25519 KMS key signs at most ${KMS_RAW_MESSAGE_LIMIT} bytes and this document is ${bytes.length}; use an ECC_NIST_P256 key`);
      }
      const signed = await client
        .send(
          new SignCommand({
            KeyId: keyArn,
            SigningAlgorithm: algorithm,
            MessageType: raw ? 'RAW' : 'DIGEST',
            Message: raw ? bytes : createHash('sha256').update(bytes).digest(),
          }),
        )
        .catch((error: Error) => {
          throw new UserError(`${source} did not sign (${error.name}: ${error.message}); check the credentials allow kms:Sign`);
        });
      return { keyid: trusted.keyId, alg: trusted.algorithm ?? 'ed25519', sig: Buffer.from(signed.Signature!).toString('base64') };
    },
  };
}
