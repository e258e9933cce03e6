import { BatchGetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Histogram, MinuteActivity } from '#lib/tasks/activity';
import type { ActivityLog } from '#lib/tasks/ports';
import { sendChunks, sendUntilDone } from './batch-retry';
import { callDependency } from './dependency-call';

/**
 * The minutes of activity, an item each in the tasks table under a key no task id can take
 * (`activity#<minute>`), never in an index (no shard keys). A flush adds to its minutes with `ADD`,
 * so writes from any number of containers sum exactly with no read; each histogram bucket is a
 * top-level number (`qw_<bucket>`, `wt_<bucket>`), because `ADD` cannot create a map's member in a
 * map that does not exist yet. An item stays under 1 KB (80 buckets span 1 ms to 15 minutes), so a
 * flush is one write unit; one item takes a partition's 1,000 writes a second, i.e. 1,000 flushes.
 */
export class DynamoDbActivityLog implements ActivityLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** How long a minute is kept (TTL): past the hour that is read, for a look back after an incident. */
    private readonly keepSeconds = 2 * 24 * 60 * 60,
  ) {}

  async add(minutes: MinuteActivity[]): Promise<void> {
    await sendChunks(minutes.map((entry) => [entry]), ([entry]) => this.addMinute(entry!));
  }

  private async addMinute({ minute, completed, failed, queueWait, workTime }: MinuteActivity): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':completed': completed, ':failed': failed, ':expires_at': Math.floor(Date.parse(`${minute}:00Z`) / 1000) + this.keepSeconds };
    const adds = ['completed :completed', 'failed :failed'];
    const addHistogram = (prefix: string, histogram: Histogram) => {
      for (const [bucket, count] of Object.entries(histogram)) {
        names[`#${prefix}${bucket}`] = `${prefix}${bucket}`;
        values[`:${prefix}${bucket}`] = count;
        adds.push(`#${prefix}${bucket} :${prefix}${bucket}`);
      }
    };
    addHistogram(QUEUE_WAIT_PREFIX, queueWait);
    addHistogram(WORK_TIME_PREFIX, workTime);
    await callDependency('task store', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { task_id: activityItemKey(minute) },
          UpdateExpression: `ADD ${adds.join(', ')} SET expires_at = if_not_exists(expires_at, :expires_at)`,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async read(minutes: string[]): Promise<MinuteActivity[]> {
    const found: MinuteActivity[] = [];
    // An hour is 60 keys: one call of BatchGetItem's 100, and whatever it leaves unprocessed.
    await sendUntilDone('task store', minutes.map((minute) => ({ task_id: activityItemKey(minute) })), async (keys) => {
      const result = await callDependency('task store', () => this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } })));
      found.push(...(result.Responses?.[this.tableName] ?? []).map((item) => toMinute(item)));
      return (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
    });
    return found;
  }
}

const QUEUE_WAIT_PREFIX = 'qw_';
const WORK_TIME_PREFIX = 'wt_';
const ACTIVITY_KEY_PREFIX = 'activity#';

export const activityItemKey = (minute: string) => `${ACTIVITY_KEY_PREFIX}${minute}`;

function toMinute(item: Record<string, unknown>): MinuteActivity {
  const histogram = (prefix: string): Histogram =>
    Object.fromEntries(
      Object.entries(item)
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, count]) => [Number(name.slice(prefix.length)), Number(count)]),
    );
  return {
    minute: String(item.task_id).slice(ACTIVITY_KEY_PREFIX.length),
    completed: Number(item.completed ?? 0),
    failed: Number(item.failed ?? 0),
    queueWait: histogram(QUEUE_WAIT_PREFIX),
    workTime: histogram(WORK_TIME_PREFIX),
  };
}
