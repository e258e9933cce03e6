import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StatusChange } from '#lib/tasks/ports';
import { sourcesOf } from '#lib/tasks/transitions';
import { eventKey, eventShard, statusShard } from './list-indexes';
import { isFinal } from '#lib/tasks/transitions';
import { appendToAttemptLog, completedEvent, failedEvent, finalExpiresAt, placeResult, startedEvent, type AttemptEvent } from './task-item';

type ResultPlacement = ReturnType<typeof placeResult>;

/**
 * The one conditional write of each status move: what the move records, and a condition derived
 * from the transition table (`sourcesOf`), never written by hand.
 */
interface UpdateParts {
  set: Record<string, unknown>;
  remove: string[];
  /** Extra condition, ANDed with or ORed onto the status condition as `combine` says. */
  extra?: { expression: string; values: Record<string, unknown>; combine: 'AND' | 'OR' };
  /** A condition ANDed onto all of the above. */
  guard?: { expression: string; values: Record<string, unknown> };
  incrementAttempts?: boolean;
  /** What the move tells of its attempt, appended to `attempt_log`. */
  attemptEvent?: AttemptEvent;
}

/** A held task leaves the `by-due` index with whatever move it makes first: a cancel before it is due, or its claim. */
const LEAVE_DUE_INDEX = ['due_shard', 'due_key'];

/** What each move writes besides its status; the status condition itself comes from the transition table. */
function updatePartsOf(taskId: string, change: StatusChange, { result, retentionDays }: TransitionOptions): UpdateParts {
  const at = change.at.toISOString();
  switch (change.to) {
    case 'PROCESSING':
      return {
        set: { started_at: at, lease_expires_at: change.leaseExpiresAt.toISOString() },
        remove: [...LEAVE_DUE_INDEX],
        incrementAttempts: true,
        attemptEvent: startedEvent(change.at),
        // A worker that died mid-task leaves its lease to run out; the redelivered message then takes the task over.
        extra: {
          expression: '(#status = :processing AND lease_expires_at < :now)',
          values: { ':processing': 'PROCESSING', ':now': at },
          combine: 'OR',
        },
        // Never before its run_at, whatever delivered the message (a duplicate, a requeue, a clock ahead of SQS's).
        guard: {
          expression: 'attempts < :max_attempts AND (attribute_not_exists(run_at) OR run_at <= :now)',
          values: { ':max_attempts': change.maxAttempts, ':now': at },
        },
      };
    case 'COMPLETED': {
      // A result kept apart was written to its attempt's item before this write; the task names that attempt.
      const placement = result ?? placeResult(taskId, change.attempt, change.result, retentionDays);
      return {
        set: {
          completed_at: at,
          ...('inline' in placement ? { result_json: placement.inline } : { result_attempt: change.attempt }),
          ...(change.progress ? { progress: change.progress } : {}),
        },
        remove: ['lease_expires_at', ...LEAVE_DUE_INDEX],
        extra: { expression: 'attempts = :attempt', values: { ':attempt': change.attempt }, combine: 'AND' },
        attemptEvent: completedEvent(change.attempt, change.at),
      };
    }
    case 'CANCELED':
      return { set: { canceled_at: at }, remove: ['lease_expires_at', ...LEAVE_DUE_INDEX] };
    case 'FAILED':
      return {
        set: { error: change.error },
        remove: ['lease_expires_at', ...LEAVE_DUE_INDEX],
        ...(change.attempt !== undefined
          ? {
              extra: { expression: 'attempts = :attempt', values: { ':attempt': change.attempt }, combine: 'AND' as const },
              attemptEvent: failedEvent(change.attempt, change.at, change.error),
            }
          : {}),
        ...(change.unlessLeased
          ? {
              extra: {
                expression: '(attribute_not_exists(lease_expires_at) OR lease_expires_at < :now)',
                values: { ':now': at },
                combine: 'AND' as const,
              },
            }
          : {}),
      };
  }
}

interface TransitionOptions {
  /** Where a completion's result goes (`placeResult`); the store writes an apart one first. */
  result?: ResultPlacement;
  /** A final move sets the TTL this many days ahead: the task is kept that long, at no extra write. */
  retentionDays: number;
}

export function buildTransitionUpdate(tableName: string, taskId: string, change: StatusChange, writeId: string, options: TransitionOptions) {
  const parts = updatePartsOf(taskId, change, options);
  const sources = sourcesOf(change.to);
  const sourceNames = sources.map((_, index) => `:from${index}`);
  let condition = `#status IN (${sourceNames.join(', ')})`;
  if (parts.extra) condition = `(${condition}) ${parts.extra.combine} ${parts.extra.expression}`;
  if (parts.guard) condition = `(${condition}) AND ${parts.guard.expression}`;

  const set = {
    status: change.to,
    status_shard: statusShard(change.to, taskId),
    updated_at: change.at.toISOString(),
    write_id: writeId,
    // A final write keeps the task for its retention, and marks it unpublished (`by-unpublished`) in
    // the same write: no final status without its mark, so no final status without its event.
    ...(isFinal(change.to)
      ? {
          expires_at: finalExpiresAt(change.at.getTime(), options.retentionDays),
          event_shard: eventShard(taskId),
          event_key: eventKey(change.at.toISOString(), taskId),
        }
      : {}),
    ...parts.set,
  };
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ...parts.extra?.values, ...parts.guard?.values };
  const assignments = Object.entries(set).map(([field, value]) => {
    names[`#${field}`] = field;
    values[`:set_${field}`] = value;
    return `#${field} = :set_${field}`;
  });
  sources.forEach((status, index) => (values[sourceNames[index]!] = status));
  if (parts.attemptEvent) {
    const append = appendToAttemptLog(parts.attemptEvent);
    assignments.push(append.expression);
    Object.assign(names, append.names);
    Object.assign(values, append.values);
  }

  let expression = `SET ${assignments.join(', ')}`;
  if (parts.incrementAttempts) {
    expression += ' ADD attempts :one';
    values[':one'] = 1;
  }
  if (parts.remove.length > 0) expression += ` REMOVE ${parts.remove.join(', ')}`;

  return new UpdateCommand({
    TableName: tableName,
    Key: { task_id: taskId },
    UpdateExpression: expression,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  });
}
