// Child process of the upload scenario: one file to S3 through the CLI's own
// upload path (uploadObjects over the S3 store), as publish does it.
// usage: node upload-file.mjs ENDPOINT BUCKET KEY FILE SHA256
import { stat } from 'node:fs/promises';
import { createS3Store } from '../../dist/store/s3-store.js';
import { uploadObjects } from '../../dist/store/upload.js';

const [endpoint, bucket, key, localPath, sha256] = process.argv.slice(2);
const store = createS3Store({ bucket, prefix: '' }, { endpoint, region: 'us-east-1', forcePathStyle: true });
try {
  const { size } = await stat(localPath);
  const item = { key, localPath, size, sha256, contentType: 'application/zip', cacheControl: 'no-cache' };
  const result = await uploadObjects(store, [item]);
  if (result.uploaded.length !== 1) throw new Error(`expected one upload, got ${JSON.stringify(result)}`);
} finally {
  await store.close();
}
