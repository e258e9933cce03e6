import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createHandler as createSubmit } from '#functions/submit';
import { serviceKinds } from '#lib/kinds';
import { createTaskService } from '#lib/tasks/service';
import { lambdaContext } from '../support/events';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';

/** The sample events docs/local-development.md invokes with `serverless invoke local`. */
const EVENTS = join(__dirname, '..', '..', 'events');
const submits = readdirSync(EVENTS).filter((file) => file.startsWith('submit'));

describe('the sample events under events/', () => {
  it.each(submits)('%s is a submit the service accepts, of the kind it names', async (file) => {
    const event = JSON.parse(readFileSync(join(EVENTS, file), 'utf8')) as APIGatewayProxyEvent;
    const store = new InMemoryTaskStore();
    const service = createTaskService({ store, queue: new InMemoryTaskQueue(), clock: new ManualClock(), logger: silentLogger });
    // Read before the handler runs: its body parser replaces the event's body with the parsed object.
    const sent = JSON.parse(event.body!) as { kind?: string };
    const result = await createSubmit(service, serviceKinds())(event, lambdaContext());
    expect(result.statusCode).toBe(202);
    expect(store.items.get(JSON.parse(result.body).task_id)!.task.kind).toBe(sent.kind ?? 'simulated');
  });

  it('include a task of a kind besides the default', () => {
    expect(submits).toContain('submit-checksum.json');
  });
});
