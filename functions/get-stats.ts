import { serviceStats } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import type { StatsReader } from '#lib/tasks/stats';

/** GET /api/stats: how many tasks have each status and how deep the queues are, at most max_age_seconds old. */
export const createHandler = (reader: StatsReader) =>
  apiHandler({}, async () => {
    const stats = await reader.stats();
    return { statusCode: 200, body: stats, headers: { 'Cache-Control': `max-age=${stats.max_age_seconds}` } };
  });

export const handler = createHandler(serviceStats);
