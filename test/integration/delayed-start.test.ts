import { randomUUID } from 'node:crypto';
import { createDocumentClient } from '#lib/aws/clients';
import { newTask } from '#lib/tasks/model';
import { ownTaskStore } from '../support/own-table';
import { stackEnv } from '../support/stack-env';

const client = createDocumentClient();
afterAll(() => client.destroy());

const submittedAt = new Date(Date.UTC(2026, 11, 1, 12, 0, 0));
const at = (seconds: number) => new Date(submittedAt.getTime() + seconds * 1000);
const HOUR = 3_600;

/** Delayed start on DynamoDB Local, in a table of its own: counts and the sweeper's walk are exact there. */
describe('held tasks in DynamoDB Local', () => {
  const own = ownTaskStore(client, stackEnv().tableName, 'delayed');
  const submit = async (delaySeconds?: number) => {
    const id = randomUUID();
    await own.store.create(newTask({ title: 't', description: 'd', metadata: {}, ...(delaySeconds === undefined ? {} : { delay_seconds: delaySeconds }) }, id, submittedAt));
    return id;
  };
  const claim = (id: string, now: Date) => own.store.transition(id, { to: 'PROCESSING', at: now, leaseExpiresAt: at(10 * HOUR), maxAttempts: 3 });

  it('keeps a held task PENDING in lists and counts, out of the sweeper’s walk, and in the due index until dispatched', async () => {
    const held = await submit(HOUR);
    const soon = await submit(60);
    expect((await own.store.countByStatus()).PENDING).toBe(2);
    expect((await own.store.list({ status: 'PENDING', limit: 10 })).tasks.map((task) => task.task_id).sort()).toEqual([held, soon].sort());
    expect((await own.store.get(held))?.run_at).toBe(at(HOUR).toISOString());
    // Tasks that wait by design never stand in the sweeper's walk before lost ones.
    expect((await own.store.findUnfinishedCreatedBefore(at(2 * HOUR), 10)).map((position) => position.taskId)).toEqual([soon]);

    expect(await own.store.findDue(at(HOUR - 1), 10)).toEqual([]);
    expect(await own.store.findDue(at(HOUR), 10)).toEqual([held]);
    await expect(own.store.markDispatched(held)).resolves.toEqual({ task_id: held, kind: 'simulated', run_at: at(HOUR).toISOString() });
    await expect(own.store.markDispatched(held)).resolves.toBeUndefined();
    expect(await own.store.findDue(at(HOUR), 10)).toEqual([]);
    expect((await own.store.findUnfinishedCreatedBefore(at(2 * HOUR), 10)).map((position) => position.taskId).sort()).toEqual([held, soon].sort());
    expect((await own.store.countByStatus()).PENDING).toBe(2);
  });

  it('refuses a claim before run_at, whatever sent the message, and takes it at run_at', async () => {
    const id = await submit(60);
    await expect(claim(id, at(59.999))).resolves.toMatchObject({ applied: false, current: { status: 'PENDING', attempts: 0 } });
    await expect(claim(id, at(60))).resolves.toMatchObject({ applied: true, task: { status: 'PROCESSING', attempts: 1 } });
  });

  it('takes a held task canceled before it is due out of the due index, so it is never dispatched', async () => {
    const id = await submit(HOUR);
    await expect(own.store.transition(id, { to: 'CANCELED', at: at(10) })).resolves.toMatchObject({ applied: true });
    expect(await own.store.findDue(at(2 * HOUR), 10)).not.toContain(id);
    await expect(own.store.markDispatched(id)).resolves.toBeUndefined();
    expect((await own.store.get(id))?.status).toBe('CANCELED');
  });

  it('requeues a delayed task only once it has been due a whole stale period', async () => {
    const id = await submit(600);
    await expect(own.store.markRequeued(id, at(900), at(600))).resolves.toBeUndefined();
    await expect(own.store.markRequeued(id, at(901), at(601))).resolves.toMatchObject({ task_id: id });
  });
});
