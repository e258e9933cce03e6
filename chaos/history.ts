import { appendFileSync, writeFileSync } from 'node:fs';

/**
 * The history of a chaos run, one JSON object per line: every request and its answer, every fault
 * window, every list walk, and each task as it stood once the faults stopped and the queue drained.
 * The checker reads nothing else, so a run can be checked again from its file alone.
 */
export type OpKind = 'submit' | 'batch' | 'get' | 'cancel' | 'list';

export interface InvokeEvent {
  type: 'invoke';
  op: number;
  client: number;
  kind: OpKind;
  at: number;
  task_id?: string;
  idempotency_key?: string;
  /** The `fail_attempts` asked for each task of the request, in request order. */
  fail_attempts?: number[];
  /** The title every task of a batch carries: how the tasks of a batch answered 503 are found. */
  marker?: string;
  wait?: number;
}

export interface AnswerEvent {
  type: 'answer';
  op: number;
  at: number;
  /** 0: no answer (the client gave up, or the connection failed). */
  status: number;
  retry_after?: string;
  body?: unknown;
}

export const FAULT_KINDS = ['dynamodb-5xx', 'dynamodb-throttle', 'dynamodb-latency', 'dynamodb-reset', 'dynamodb-drop-answer', 'sqs-5xx', 'sqs-throttle', 'sqs-latency', 'sqs-reset', 'sqs-drop-answer', 'trigger-stall', 'duplicate-delivery', 'killed-invocation'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultEvent {
  type: 'fault';
  kind: FaultKind;
  from: number;
  to: number;
}

export interface WalkEvent {
  type: 'walk';
  walk: number;
  status?: string;
  from: number;
  to: number;
  listed: string[];
}

/** A task as it stood after the drain: the service's own representation. */
export interface TaskState {
  task_id: string;
  title: string;
  status: string;
  attempts: number;
  error: { code: string } | null;
  created_at: string;
  completed_at: string | null;
  /** The task's `run_at`, if it was delayed, and the start of its first attempt (from its attempt log), if any. */
  run_at?: string | null;
  first_started_at?: string | null;
  /** Its callback, if it was given one: how that ended, and the calls it recorded. */
  callback_url?: string | null;
  callback_state?: string | null;
  callback_attempts?: number;
}

export interface FinalEvent {
  type: 'final';
  task: TaskState;
}

/** A completion event as the stack's bus received it (read after the drain). */
export interface PublishedEvent {
  type: 'published';
  event_id: string;
  task_id: string;
  status: string;
}

/** A call the callback receiver got: whose event, and whether its signature verified. */
export interface CallbackCallEvent {
  type: 'callback';
  task_id: string;
  event_id: string;
  status: string;
  signature_valid: boolean;
}

export type HistoryEvent = InvokeEvent | AnswerEvent | FaultEvent | WalkEvent | FinalEvent | PublishedEvent | CallbackCallEvent;

/** Appends events to a JSON-lines file as they happen (a run stopped midway keeps what it did). */
export class HistoryLog {
  readonly events: HistoryEvent[] = [];

  constructor(private readonly file?: string) {
    if (file) writeFileSync(file, '');
  }

  record(event: HistoryEvent): void {
    this.events.push(event);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(event)}\n`);
  }
}
