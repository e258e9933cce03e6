import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import type { ActivityLog, TaskCount, TaskDuration, TaskMetrics } from './ports';

/**
 * What the service did, minute by minute: completions, failures, and the distribution of the two
 * durations the processor times (`QueueWait`: from the message's send to the attempt's start;
 * `WorkTime`: from the start to the completion). Kept as log-bucket histograms, as DDSketch and
 * HdrHistogram keep theirs: bucket `i` holds the durations in [BASE^i, BASE^(i+1)) ms, so minutes
 * written by many containers add up exactly, and a percentile read from them is within
 * PERCENTILE_RELATIVE_ERROR of the true one.
 */
export const HISTOGRAM_BASE = 2 ** 0.25;
/** The geometric middle of a bucket is at most this far, relatively, from any value in it. */
export const PERCENTILE_RELATIVE_ERROR = Math.sqrt(HISTOGRAM_BASE) - 1;
/** How many minutes a read covers. */
export const ACTIVITY_WINDOW_MINUTES = 60;

/** Bucket index → how many durations fell in it. */
export type Histogram = Record<number, number>;

export interface MinuteActivity {
  /** The minute's start, `YYYY-MM-DDTHH:MM` (UTC). */
  minute: string;
  completed: number;
  failed: number;
  queueWait: Histogram;
  workTime: Histogram;
}

export const minuteOf = (at: Date): string => at.toISOString().slice(0, 16);

/** Durations under a millisecond share bucket 0 with those of 1 ms. */
export const bucketOf = (milliseconds: number): number => (milliseconds < 1 ? 0 : Math.floor(Math.log(milliseconds) / Math.log(HISTOGRAM_BASE)));
const middleOf = (bucket: number): number => HISTOGRAM_BASE ** (bucket + 0.5);

/** The p-th percentile (0 < p ≤ 1) of the durations a histogram holds, in ms; null when it holds none. */
export function percentileOf(histogram: Histogram, p: number): number | null {
  const buckets = Object.entries(histogram)
    .map(([bucket, count]) => [Number(bucket), count] as const)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= rank) return Math.round(middleOf(bucket));
  }
  return Math.round(middleOf(buckets[buckets.length - 1]![0]));
}

function addInto(target: Histogram, source: Histogram): void {
  for (const [bucket, count] of Object.entries(source)) target[Number(bucket)] = (target[Number(bucket)] ?? 0) + count;
}

export const emptyMinute = (minute: string): MinuteActivity => ({ minute, completed: 0, failed: 0, queueWait: {}, workTime: {} });

/** Adds `source`'s counts and histograms to `target`'s: what the store's `ADD` does to a minute it holds. */
export function addMinute(target: MinuteActivity, source: MinuteActivity): void {
  target.completed += source.completed;
  target.failed += source.failed;
  addInto(target.queueWait, source.queueWait);
  addInto(target.workTime, source.workTime);
}

/**
 * The TaskMetrics a processor container records into: counts and durations gathered per minute in
 * memory, written by `flush()` once per invocation (one write per minute touched, not one per task).
 * Best effort, like the CloudWatch metrics beside it: a flush that fails is logged and its minutes
 * are dropped rather than retried forever.
 */
export function createActivityRecorder({ log, clock, logger }: { log: ActivityLog; clock: Clock; logger: AppLogger }) {
  let pending = new Map<string, MinuteActivity>();
  const current = () => {
    const minute = minuteOf(clock.now());
    let entry = pending.get(minute);
    if (!entry) pending.set(minute, (entry = emptyMinute(minute)));
    return entry;
  };
  const counted: Partial<Record<TaskCount, 'completed' | 'failed'>> = { TasksCompleted: 'completed', TasksFailed: 'failed' };
  const timed: Partial<Record<TaskDuration, 'queueWait' | 'workTime'>> = { QueueWait: 'queueWait', WorkTime: 'workTime' };

  const metrics: TaskMetrics = {
    count(metric, value = 1) {
      const field = counted[metric];
      if (field) current()[field] += value;
    },
    duration(metric, milliseconds) {
      const field = timed[metric];
      if (!field) return;
      const histogram = current()[field];
      const bucket = bucketOf(milliseconds);
      histogram[bucket] = (histogram[bucket] ?? 0) + 1;
    },
  };

  return {
    metrics,
    async flush(): Promise<void> {
      if (pending.size === 0) return;
      const minutes = [...pending.values()];
      pending = new Map();
      await log.add(minutes).catch((error: unknown) => logger.warn('Could not record the activity of this invocation; its minutes are left out', { error, minutes: minutes.length }));
    },
  };
}

export type ActivityRecorder = ReturnType<typeof createActivityRecorder>;

/** The last hour, as GET /api/stats answers it: a point per minute, oldest first, and the percentiles over all of it. */
export interface ActivitySummary {
  per_minute: Array<{ minute: string; completed: number; failed: number }>;
  completed: number;
  failed: number;
  submit_to_start_ms: { p50: number | null; p99: number | null };
  start_to_end_ms: { p50: number | null; p99: number | null };
}

/** The `ACTIVITY_WINDOW_MINUTES` minutes that end with the one `now` is in, oldest first. */
export function windowMinutes(now: Date): string[] {
  const last = Math.floor(now.getTime() / 60_000);
  return Array.from({ length: ACTIVITY_WINDOW_MINUTES }, (_, index) => minuteOf(new Date((last - ACTIVITY_WINDOW_MINUTES + 1 + index) * 60_000)));
}

export function summarizeActivity(minutes: MinuteActivity[], now: Date): ActivitySummary {
  const byMinute = new Map(minutes.map((entry) => [entry.minute, entry]));
  const window = windowMinutes(now).map((minute) => byMinute.get(minute) ?? emptyMinute(minute));
  const hour = emptyMinute('hour');
  for (const entry of window) addMinute(hour, entry);
  return {
    per_minute: window.map(({ minute, completed, failed }) => ({ minute, completed, failed })),
    completed: hour.completed,
    failed: hour.failed,
    submit_to_start_ms: { p50: percentileOf(hour.queueWait, 0.5), p99: percentileOf(hour.queueWait, 0.99) },
    start_to_end_ms: { p50: percentileOf(hour.workTime, 0.5), p99: percentileOf(hour.workTime, 0.99) },
  };
}
