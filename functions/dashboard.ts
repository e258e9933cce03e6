import { DASHBOARD_PAGE } from '#lib/http/dashboard-page';
import { htmlPageHandler } from '#lib/handlers/static-content';

/** GET /dashboard: a live page of the service, built on the public API alone. */
export const handler = htmlPageHandler(DASHBOARD_PAGE);
