import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDbHook } from '../config/hook-schema.js';
import type { HookHandler } from './context.js';
import { releaseLabel } from './context.js';
import type { ReleaseEvent } from '../protocol/release-event.js';
import { awsCallOptions, awsClientConfig, endpointNote } from './aws.js';

/**
 * Table key schema (create the table with exactly this):
 *   partition key `package` (S) — the package id
 *   sort key      `sk`      (S) — `<version>#<channel>#<event>#<at>`
 * so `package = :p AND begins_with(sk, :version#)` lists everything that
 * happened to one version. Other attributes are plain copies of the event;
 * `rules` and `changedKeys` are JSON strings.
 */
export const releaseSortKey = (event: ReleaseEvent) => `${event.version}#${event.channel}#${event.event}#${event.at}`;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

export function releaseItem(event: ReleaseEvent): Record<string, AttributeValue> {
  return {
    package: s(event.package),
    sk: s(releaseSortKey(event)),
    event: s(event.event),
    version: s(event.version),
    previousVersion: event.previousVersion === null ? { NULL: true } : s(event.previousVersion),
    channel: s(event.channel),
    rollout: n(event.rollout),
    mandatory: { BOOL: event.mandatory },
    rules: s(JSON.stringify(event.rules)),
    size: n(event.size),
    key: s(event.key),
    changedKeys: s(JSON.stringify(event.changedKeys)),
    store: s(event.store),
    at: s(event.at),
    actor: s(event.actor),
  };
}

export const runDynamoDbHook: HookHandler<DynamoDbHook> = async (hook, event, context) => {
  const sk = releaseSortKey(event);
  if (context.dryRun) {
    return `would call DynamoDB PutItem${endpointNote(hook)} on table ${hook.table}: package=${event.package}, sk=${sk} (only if absent)`;
  }
  const client = new DynamoDBClient(awsClientConfig(hook));
  try {
    await client.send(
      new PutItemCommand({
        TableName: hook.table,
        Item: releaseItem(event),
        // An event is recorded once: a second write of the same key is refused, never an overwrite.
        ConditionExpression: 'attribute_not_exists(#package)',
        ExpressionAttributeNames: { '#package': 'package' },
      }),
      awsCallOptions(hook),
    );
    return `item ${event.package} / ${sk} written to ${hook.table}`;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      throw new Error(`${hook.table} already holds ${event.event} of ${releaseLabel(event)} at ${event.at} (sk ${sk}); left as is`);
    }
    throw error;
  } finally {
    client.destroy();
  }
};
