import { createDocumentClient } from '#lib/aws/clients';
import { activityItemKey, DynamoDbActivityLog } from '#lib/aws/dynamodb-activity-log';
import { bucketOf, createActivityRecorder, PERCENTILE_RELATIVE_ERROR, summarizeActivity, windowMinutes } from '#lib/tasks/activity';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ManualClock, silentLogger } from '../support/fakes';
import { stackEnv } from '../support/stack-env';

const { tableName } = stackEnv();
const client = createDocumentClient();
const log = new DynamoDbActivityLog(client, tableName);
afterAll(() => client.destroy());

// An hour long past, in a year of its own per run: no processor of the shared stack writes there.
const hourStart = Date.UTC(2000 + Math.floor(Math.random() * 20), 0, 1, 10, 0, 0);
const now = new Date(hourStart + 59 * 60_000 + 30_000);

describe('the minutes of activity in DynamoDB Local', () => {
  it('sums what 10 containers flush at once, exactly, and reads the hour back with percentiles within the stated error', async () => {
    const containers = Array.from({ length: 10 }, () => {
      const clock = new ManualClock(new Date(hourStart));
      return { clock, recorder: createActivityRecorder({ log, clock, logger: silentLogger }) };
    });
    const waits: number[] = [];
    const works: number[] = [];
    // 1,000 completions and 100 failures over three minutes of the hour, each container flushing after each minute.
    for (const minute of [0, 17, 59]) {
      for (const [index, { clock, recorder }] of containers.entries()) {
        clock.advance(minute * 60_000 - (clock.now().getTime() - hourStart));
        for (let task = 0; task < 33 + (index === 0 ? 4 : 0) - (minute === 59 ? 1 : 0); task++) {
          const wait = 5 + ((task * 37 + index * 11 + minute) % 400);
          const work = 2_000 + ((task * 53 + index * 7) % 2_000);
          waits.push(wait);
          works.push(work);
          recorder.metrics.duration('QueueWait', wait);
          recorder.metrics.count('TasksCompleted');
          recorder.metrics.duration('WorkTime', work);
        }
        recorder.metrics.count('TasksFailed', minute === 0 ? 4 : 3);
      }
      await Promise.all(containers.map(({ recorder }) => recorder.flush()));
    }
    const summary = summarizeActivity(await log.read(windowMinutes(now)), now);
    expect(summary.completed).toBe(waits.length);
    expect(summary.failed).toBe(100);
    expect(summary.per_minute.filter((point) => point.completed > 0).map((point) => point.completed)).toEqual([334, 334, 324]);
    const exact = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.ceil(p * values.length) - 1]!;
    for (const [estimate, values, p] of [
      [summary.submit_to_start_ms.p50, waits, 0.5],
      [summary.submit_to_start_ms.p99, waits, 0.99],
      [summary.start_to_end_ms.p50, works, 0.5],
      [summary.start_to_end_ms.p99, works, 0.99],
    ] as const) {
      expect(Math.abs(estimate! - exact(values, p))).toBeLessThanOrEqual(exact(values, p) * PERCENTILE_RELATIVE_ERROR + 0.5);
    }
  });

  it('keeps a minute in one small item that expires (TTL) two days after it', async () => {
    const minute = new Date(hourStart + 5 * 60_000).toISOString().slice(0, 16);
    await log.add([{ minute, completed: 2, failed: 0, queueWait: { [bucketOf(100)]: 2 }, workTime: { [bucketOf(3_000)]: 2 } }]);
    const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { task_id: activityItemKey(minute) }, ConsistentRead: true }));
    expect(Item).toMatchObject({ completed: 2, failed: 0, [`qw_${bucketOf(100)}`]: 2, [`wt_${bucketOf(3_000)}`]: 2, expires_at: (hourStart + 5 * 60_000) / 1000 + 2 * 86_400 });
    expect(Item).not.toHaveProperty('status_shard');
  });
});
