import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDbHook } from '../config/hook-schema.js';
import type { HookHandler } from './context.js';
import { eventLabel } from './context.js';
import { awsCallOptions, awsClientConfig, endpointNote } from './aws.js';
import { currentItem, currentRevision, currentSortKey, eventItem, eventSortKey, partitionOf } from './dynamodb-items.js';

/**
 * Keeps, in a table keyed by (partitionKey, sortKey) — `package` and `sk`
 * unless the hook says otherwise, both strings — one item per event and one
 * current item per package and channel, and per channel for switches and app
 * releases (the layout is in dynamodb-items.ts). Devices ask
 * `partitionKey = <package> AND sortKey = current#<channel>`.
 */
export const runDynamoDbHook: HookHandler<DynamoDbHook> = async (hook, event, context) => {
  const keys = { partitionKey: hook.partitionKey, sortKey: hook.sortKey };
  const partition = partitionOf(event);
  const sortKey = eventSortKey(event);
  const revision = currentRevision(event);
  const shownRevision = revision.value.S ?? revision.value.N;
  if (context.dryRun) {
    return (
      `would call DynamoDB PutItem${endpointNote(hook)} on table ${hook.table}: ${keys.partitionKey}=${partition}, ${keys.sortKey}=${sortKey} (only if absent), ` +
      `and ${keys.sortKey}=${currentSortKey(event.channel)} (unless it holds a state newer than ${revision.attribute} ${shownRevision})`
    );
  }
  const client = new DynamoDBClient(awsClientConfig(hook, context.env, 'DynamoDB'));
  const names = { '#partition': keys.partitionKey };
  const put = (item: Record<string, AttributeValue>, condition: string, extra: { names?: Record<string, string>; values?: Record<string, AttributeValue> } = {}) =>
    client.send(
      new PutItemCommand({
        TableName: hook.table,
        Item: item,
        ConditionExpression: condition,
        ExpressionAttributeNames: { ...names, ...extra.names },
        ...(extra.values && { ExpressionAttributeValues: extra.values }),
      }),
      awsCallOptions(hook),
    );
  try {
    // The current item first: writing the same state twice is harmless, and it must not wait on the event item.
    let current = `current item ${currentSortKey(event.channel)} updated`;
    try {
      await put(currentItem(event, keys), 'attribute_not_exists(#partition) OR #revision <= :revision', {
        names: { '#revision': revision.attribute },
        values: { ':revision': revision.value },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      current = `current item ${currentSortKey(event.channel)} left as is (it holds a state newer than ${revision.attribute} ${shownRevision})`;
    }
    try {
      // An event is recorded once: a second write of the same key is refused, never an overwrite.
      await put(eventItem(event, keys), 'attribute_not_exists(#partition)');
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new Error(`${hook.table} already holds ${event.event} of ${eventLabel(event)} at ${event.at} (${keys.sortKey} ${sortKey}); left as is`);
      }
      throw error;
    }
    return `item ${partition} / ${sortKey} written to ${hook.table}; ${current}`;
  } finally {
    client.destroy();
  }
};
