import { bulkActions } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import type { BulkActions } from '#lib/tasks/bulk-actions';
import { BulkCancelRequestSchema } from '#lib/tasks/model';

/** POST /api/tasks/cancel: cancels the PENDING tasks of one page (created before a time, if given); next_cursor continues. */
export const createHandler = (actions: Pick<BulkActions, 'cancelPending'>) =>
  apiHandler({ body: BulkCancelRequestSchema }, async ({ body }) => ({ statusCode: 200, body: await actions.cancelPending(body) }));

export const handler = createHandler(bulkActions);
