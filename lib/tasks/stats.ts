import type { Clock } from '#lib/clock';
import { TASK_STATUSES, type ServiceStats } from './model';
import type { ActivityLog, QueueDepth, QueueGauge, TaskStore } from './ports';
import { summarizeActivity, windowMinutes } from './activity';

/**
 * How old the numbers an instance serves may be. Counting reads the whole status index, so a
 * dashboard refreshing every 2 s must not make each refresh a count (docs/architecture.md).
 */
export const DEFAULT_STATS_MAX_AGE_SECONDS = 5;

export interface StatsReaderDeps {
  store: Pick<TaskStore, 'countByStatus'>;
  queue: QueueGauge;
  highPriorityQueue: QueueGauge;
  deadLetterQueue: QueueGauge;
  activity: Pick<ActivityLog, 'read'>;
  clock: Clock;
  maxAgeSeconds?: number;
}

const depthBody = ({ waiting, inFlight, delayed }: QueueDepth) => ({ waiting, in_flight: inFlight, delayed });

/**
 * Reads task counts and queue depths together, and keeps them for `maxAgeSeconds`: every call in
 * that time, concurrent ones included, shares one read. A failed read is not kept.
 */
export function createStatsReader({ store, queue, highPriorityQueue, deadLetterQueue, activity, clock, maxAgeSeconds = DEFAULT_STATS_MAX_AGE_SECONDS }: StatsReaderDeps) {
  let cached: { at: number; stats: Promise<ServiceStats> } | undefined;

  async function read(at: Date): Promise<ServiceStats> {
    const [byStatus, tasksQueue, highLane, deadLetters, minutes] = await Promise.all([
      store.countByStatus(),
      queue.depth(),
      highPriorityQueue.depth(),
      deadLetterQueue.depth(),
      activity.read(windowMinutes(at)),
    ]);
    return {
      tasks: { by_status: byStatus, total: TASK_STATUSES.reduce((sum, status) => sum + byStatus[status], 0) },
      queue: depthBody(tasksQueue),
      high_priority_queue: depthBody(highLane),
      dead_letter_queue: depthBody(deadLetters),
      last_hour: summarizeActivity(minutes, at),
      counted_at: at.toISOString(),
      max_age_seconds: maxAgeSeconds,
    };
  }

  return {
    stats(): Promise<ServiceStats> {
      const now = clock.now();
      if (!cached || now.getTime() - cached.at >= maxAgeSeconds * 1000) {
        const stats = read(now);
        cached = { at: now.getTime(), stats };
        stats.catch(() => {
          if (cached?.stats === stats) cached = undefined;
        });
      }
      return cached.stats;
    },
  };
}

export type StatsReader = ReturnType<typeof createStatsReader>;
