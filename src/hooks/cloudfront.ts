import { randomUUID } from 'node:crypto';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import type { CloudFrontHook } from '../config/hook-schema.js';
import type { HookHandler } from './context.js';
import { isReleaseEvent, type HookEvent } from '../protocol/release-event.js';
import { packagesPrefix } from '../protocol/layout.js';
import { awsCallOptions, awsClientConfig, endpointNote } from './aws.js';

/** The configured paths, or the mutable documents this release rewrote. */
export function invalidationPaths(hook: CloudFrontHook, event: HookEvent): string[] {
  if (hook.paths) return hook.paths;
  // Everything under packages/ is versioned and immutable (see protocol/layout.ts): never invalidated.
  const mutable = event.changedKeys.filter((key) => !key.startsWith(packagesPrefix));
  // CloudFront matches URL-encoded paths: a prefix with spaces or non-ASCII would invalidate nothing.
  const encoded = (path: string) => path.split('/').map(encodeURIComponent).join('/');
  return [...new Set(mutable)].map((key) => encoded(`${hook.pathPrefix}/${key}`));
}

/** Says in the CloudFront console which change asked for the invalidation. */
const callerTag = (event: HookEvent) =>
  isReleaseEvent(event) ? `${event.package}-${event.version}-${event.event}` : `${event.event}-${event.channel}-v${event.documentVersion}`;

export const runCloudFrontHook: HookHandler<CloudFrontHook> = async (hook, event, context) => {
  const paths = invalidationPaths(hook, event);
  if (paths.length === 0) return 'nothing to invalidate (no mutable document changed)';
  if (context.dryRun) {
    return `would call CloudFront CreateInvalidation${endpointNote(hook)} on distribution ${hook.distributionId} for ${paths.join(', ')}`;
  }
  // CloudFront is a global service whose API lives in us-east-1.
  const client = new CloudFrontClient(awsClientConfig(hook, context.env, 'CloudFront', 'us-east-1'));
  try {
    const response = await client.send(
      new CreateInvalidationCommand({
        DistributionId: hook.distributionId,
        InvalidationBatch: {
          Paths: { Quantity: paths.length, Items: paths },
          // Unique per call: the same reference twice would be treated as a retry of the first.
          CallerReference: `update-publish-${callerTag(event)}-${randomUUID()}`,
        },
      }),
      awsCallOptions(hook),
    );
    return `invalidation ${response.Invalidation?.Id ?? '(no id)'} for ${paths.length} path${paths.length === 1 ? '' : 's'}`;
  } finally {
    client.destroy();
  }
};
