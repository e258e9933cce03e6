import { eventually, stackEnv } from '../support/stack-env';

const { apiUrl } = stackEnv();

type Task = { task_id: string; status: string; priority: string; retry_of: string | null };
async function post(path: string, body: unknown) {
  const response = await fetch(`${apiUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Task & { tasks: Task[] } };
}
const get = async (id: string) => (await (await fetch(`${apiUrl}/tasks/${id}`)).json()) as Task;
const finalOf = (id: string) => eventually(async () => {
  const task = await get(id);
  return ['COMPLETED', 'FAILED', 'CANCELED'].includes(task.status) ? task : undefined;
});

describe('priority lanes through the stack', () => {
  it('runs high tasks through their own lane, single and in a batch beside normal ones, and says each task’s lane', async () => {
    const single = await post('/tasks', { title: 'urgent', description: 'd', priority: 'high', payload: { simulate: { work_ms: 10 } } });
    const batch = await post('/tasks/batch', { tasks: [{ title: 'urgent', description: 'd', priority: 'high' }, { title: 'routine', description: 'd' }] });
    expect([single.status, batch.status]).toEqual([202, 202]);
    const [high, normal] = batch.body.tasks.map((task) => task.task_id) as [string, string];
    for (const id of [single.body.task_id, high]) expect(await finalOf(id)).toMatchObject({ status: 'COMPLETED', priority: 'high' });
    expect(await finalOf(normal)).toMatchObject({ status: 'COMPLETED', priority: 'normal' });
    const stats = (await (await fetch(`${apiUrl}/stats`)).json()) as { high_priority_queue: Record<string, number> };
    expect(Object.keys(stats.high_priority_queue).sort()).toEqual(['delayed', 'in_flight', 'waiting']);
  });

  it('retries a FAILED high task in the high lane', async () => {
    const failing = await post('/tasks', { title: 'urgent, failing', description: 'd', priority: 'high', payload: { simulate: { fail_attempts: 3, work_ms: 0 } } });
    expect((await finalOf(failing.body.task_id)).status).toBe('FAILED');
    const retry = await post(`/tasks/${failing.body.task_id}/retry`, {});
    expect(retry).toMatchObject({ status: 202, body: { retry_of: failing.body.task_id } });
    expect(await get(retry.body.task_id)).toMatchObject({ priority: 'high' });
  });
});
