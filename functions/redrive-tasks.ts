import { bulkActions } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import type { BulkActions } from '#lib/tasks/bulk-actions';
import { RedriveRequestSchema } from '#lib/tasks/model';

/** POST /api/tasks/redrive: retries the FAILED tasks of one page (failed after a time, if given); next_cursor continues. */
export const createHandler = (actions: Pick<BulkActions, 'redrive'>) =>
  apiHandler({ body: RedriveRequestSchema }, async ({ body }) => ({ statusCode: 200, body: await actions.redrive(body) }));

export const handler = createHandler(bulkActions);
