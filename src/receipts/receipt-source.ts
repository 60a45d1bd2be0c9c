import { UserError } from '../errors.js';
import { parseS3Url, type S3Location } from '../config/s3-url.js';

/** Where receipts are read from (`--receipts`, config `receipts.source`). */
export type ReceiptSource =
  | { kind: 'files'; path: string }
  | ({ kind: 's3' } & S3Location)
  | { kind: 'athena'; workgroup: string; database: string; table: string };

const ATHENA = /^athena:\/\/([A-Za-z0-9._-]{1,128})\/([a-z0-9_]{1,255})\.([a-z0-9_]{1,255})$/;

export function parseReceiptSource(text: string): ReceiptSource {
  if (/^s3:\/\//i.test(text)) {
    try {
      return { kind: 's3', ...parseS3Url(text) };
    } catch (error) {
      throw new UserError(`receipts source ${(error as Error).message.replace(/^store /, '')}`);
    }
  }
  if (/^athena:/i.test(text)) {
    const match = ATHENA.exec(text);
    if (!match) throw new UserError(`receipts source '${text}' is not athena://<workgroup>/<database>.<table> (lowercase database and table names), e.g. athena://primary/cdn_logs.receipts`);
    return { kind: 'athena', workgroup: match[1], database: match[2], table: match[3] };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new UserError(`receipts source '${text}' is not a folder, a file, s3://bucket/prefix or athena://workgroup/database.table`);
  return { kind: 'files', path: text };
}

export const describeSource = (source: ReceiptSource) =>
  source.kind === 'files' ? source.path : source.kind === 's3' ? `s3://${source.bucket}/${source.prefix}` : `athena://${source.workgroup}/${source.database}.${source.table}`;
