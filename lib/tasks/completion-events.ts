import { z } from 'zod';
import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import { TASK_PRIORITIES, TaskErrorSchema, TraceIdSchema, type TaskSummary } from './model';
import type { CallbackQueue, EventBus, TaskStore } from './ports';
import { isFinal } from './transitions';

export const FINAL_STATUSES = ['COMPLETED', 'FAILED', 'CANCELED'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/** The EventBridge `source` and `detail-type` of every completion event, by status: what a rule matches on. */
export const COMPLETION_EVENT_SOURCE = 'task-service';
export const DETAIL_TYPES: Readonly<Record<FinalStatus, string>> = { COMPLETED: 'Task Completed', FAILED: 'Task Failed', CANCELED: 'Task Canceled' };

const timestamp = z.iso.datetime();

/**
 * What is told of a task that ended: its `detail` on the bus, and the body its callback is POSTed.
 * Never the payload or the result (unbounded, and maybe not for every listener's eyes): a listener
 * that needs them reads the task. `event_id` is the same however often the event is delivered (at
 * least once): a listener keeps the ids it has handled.
 */
export const CompletionEventSchema = z.object({
  event_id: z.string().meta({ description: '`<task_id>:<status>`: the same on every delivery of this event, the key to drop duplicates by' }),
  type: z.enum(['task.completed', 'task.failed', 'task.canceled']),
  task_id: z.uuid(),
  kind: z.string(),
  status: z.enum(FINAL_STATUSES),
  priority: z.enum(TASK_PRIORITIES),
  attempts: z.number().int().nonnegative(),
  error: TaskErrorSchema.nullable(),
  created_at: timestamp,
  started_at: timestamp.nullable(),
  ended_at: timestamp.meta({ description: 'When the final write was made' }),
  run_at: timestamp.nullable(),
  retry_of: z.uuid().nullable(),
  trace_id: TraceIdSchema.nullable(),
});
export type CompletionEvent = z.infer<typeof CompletionEventSchema>;

/** A callback to make: queued once per published event of a task with a callback_url. */
export const CallbackDeliverySchema = z.strictObject({ task_id: z.uuid(), url: z.string(), event: CompletionEventSchema });
export type CallbackDelivery = z.infer<typeof CallbackDeliverySchema>;

/** The event of a task in a final status that its final write made at `endedAt`. */
export function completionEventOf(task: TaskSummary, endedAt: string): CompletionEvent {
  if (!isFinal(task.status)) throw new Error(`Task ${task.task_id} is ${task.status}: only a final status has a completion event`);
  const status = task.status as FinalStatus;
  return {
    event_id: `${task.task_id}:${status}`,
    type: `task.${status.toLowerCase()}` as CompletionEvent['type'],
    task_id: task.task_id,
    kind: task.kind,
    status,
    priority: task.priority,
    attempts: task.attempts,
    error: task.error,
    created_at: task.created_at,
    started_at: task.started_at,
    ended_at: endedAt,
    run_at: task.run_at,
    retry_of: task.retry_of,
    trace_id: task.trace_id,
  };
}

/** A task whose final write is done and whose event is yet to be published. */
export interface EndedTask {
  task: TaskSummary;
  endedAt: string;
}

export interface CompletionNotifierDeps {
  store: Pick<TaskStore, 'findUnpublished' | 'getSummaries' | 'markPublished'>;
  bus: EventBus;
  callbacks: Pick<CallbackQueue, 'enqueueAll'>;
  clock: Clock;
  logger: AppLogger;
  /** How long after its final write a task still marked unpublished is taken to be the relay's (EVENT_RELAY_AFTER_SECONDS). */
  relayAfterSeconds: number;
  /** Most tasks one relay run publishes; the next run takes the rest. */
  relayLimit?: number;
}

/**
 * Publishes each final status once, at least once, and never one a task did not reach. The final
 * write itself marks the task unpublished (the sparse `by-unpublished` index, in the same write, so
 * no final status exists without its mark); the writer publishes right after and clears the mark.
 * A writer that stops between the two (a timeout, a crash, the bus unavailable) leaves the mark,
 * and the relay, every minute, publishes what has been marked for longer than `relayAfterSeconds`.
 * A task's status never changes once final, so whoever publishes tells the same status. The cost of
 * a writer stopping at the wrong moment is a second delivery with the same `event_id`.
 */
export function createCompletionNotifier({ store, bus, callbacks, clock, logger, relayAfterSeconds, relayLimit = 500 }: CompletionNotifierDeps) {
  async function publish(ended: EndedTask[]): Promise<void> {
    await bus.publish(ended.map(({ task, endedAt }) => completionEventOf(task, endedAt)));
    const deliveries = ended.flatMap(({ task, endedAt }) =>
      task.callback_url === null ? [] : [{ task_id: task.task_id, url: task.callback_url, event: completionEventOf(task, endedAt) }],
    );
    if (deliveries.length > 0) await callbacks.enqueueAll(deliveries);
    await store.markPublished(ended.map(({ task }) => task.task_id));
  }

  /**
   * Group commit: the tasks whose final writes answer while a publish is under way are published
   * together once it is done (and once the turn of the event loop that ends it has run), with one
   * PutEvents per ten events and one clearing call per 25 marks. A lone completion waits for nothing;
   * under load the groups grow with the load, and a container has one publish in flight at a time.
   */
  let gathering: { ended: EndedTask[]; published: Promise<void> } | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  return {
    /** Right after a final write: publishes its event. A failure is logged, not thrown: the write stands, and the relay publishes later. */
    notify(task: TaskSummary, endedAt: string): Promise<void> {
      if (!gathering) {
        const ended: EndedTask[] = [];
        const published = inFlight
          .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
          .then(() => {
            gathering = undefined;
            return publish(ended);
          })
          .catch((error: unknown) => {
            logger.warn('Completion events not published now; the relay publishes them', {
              task_ids: ended.slice(0, 50).map(({ task: { task_id } }) => task_id),
              error: error as Error,
            });
          });
        gathering = { ended, published };
        inFlight = published;
      }
      gathering.ended.push({ task, endedAt });
      return gathering.published;
    },

    /** The relay's run: publishes the events that writers left unpublished. */
    async relayUnpublished(): Promise<{ published: number }> {
      const before = new Date(clock.now().getTime() - relayAfterSeconds * 1000);
      const marked = await store.findUnpublished(before, relayLimit);
      if (marked.length === 0) return { published: 0 };
      const summaries = new Map((await store.getSummaries(marked.map(({ taskId }) => taskId))).map((task) => [task.task_id, task]));
      const ended = marked.flatMap(({ taskId, endedAt }) => {
        const task = summaries.get(taskId);
        return task && isFinal(task.status) ? [{ task, endedAt }] : [];
      });
      if (ended.length > 0) await publish(ended);
      // Marked but gone (expired) or, impossibly, not final: nothing to tell, and the mark must not be read again.
      const untold = marked.filter(({ taskId }) => !ended.some(({ task }) => task.task_id === taskId)).map(({ taskId }) => taskId);
      if (untold.length > 0) await store.markPublished(untold);
      logger.warn('Relayed completion events that their writers left unpublished', { count: ended.length, task_ids: ended.slice(0, 50).map(({ task }) => task.task_id) });
      return { published: ended.length };
    },
  };
}
export type CompletionNotifier = ReturnType<typeof createCompletionNotifier>;

/**
 * The store, with every applied final move followed by its event: the one place every final write
 * passes (the processor's completions and failures, the dead-letter consumer, cancels, a refused
 * batch's tasks), so none can forget it. The event follows the write; the caller waits for both.
 */
export function withCompletionEvents(store: TaskStore, notifier: Pick<CompletionNotifier, 'notify'>): TaskStore {
  const notifying: TaskStore = Object.create(store);
  notifying.transition = async (taskId, change) => {
    const result = await store.transition(taskId, change);
    if (result.applied && isFinal(change.to)) await notifier.notify(result.task, change.at.toISOString());
    return result;
  };
  return notifying;
}
