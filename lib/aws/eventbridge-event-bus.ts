import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { chunks, sendChunks, sendUntilDone } from './batch-retry';
import { callDependency } from './dependency-call';
import { COMPLETION_EVENT_SOURCE, DETAIL_TYPES, type CompletionEvent } from '#lib/tasks/completion-events';
import type { EventBus } from '#lib/tasks/ports';

/** PutEvents takes at most ten entries. */
const PUT_EVENTS_LIMIT = 10;

/**
 * The EventBridge implementation of the event bus: each completion event an entry of the stack's
 * bus, `source` task-service and `detail-type` by status ("Task Completed", "Task Failed",
 * "Task Canceled"), so a rule can match either; entries EventBridge reports failed are sent again.
 */
export class EventBridgeEventBus implements EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: CompletionEvent[]): Promise<void> {
    const entryOf = (event: CompletionEvent): PutEventsRequestEntry => ({
      EventBusName: this.busName,
      Source: COMPLETION_EVENT_SOURCE,
      DetailType: DETAIL_TYPES[event.status],
      Detail: JSON.stringify(event),
      Time: new Date(event.ended_at),
    });
    await sendChunks(chunks(events.map(entryOf), PUT_EVENTS_LIMIT), (chunk) =>
      sendUntilDone('event bus', chunk, async (entries) => {
        const { Entries = [] } = await callDependency('event bus', () => this.client.send(new PutEventsCommand({ Entries: entries })));
        // Answered entries line up with the sent ones; a failed one carries an ErrorCode.
        return entries.filter((_, index) => Entries[index]?.ErrorCode !== undefined);
      }),
    );
  }
}
