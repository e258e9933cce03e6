import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Moves every message of the dead-letter queue back to the task queue, ten at a time, deleting each
 * only once it has been sent (a crash in between duplicates a message, which processing absorbs).
 * Works against any SQS endpoint, emulators included; on AWS, `aws sqs start-message-move-task`
 * does the same server-side.
 */
export async function redriveDeadLetters(sqs: SQSClient, from: string, to: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: from, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30 }),
    );
    if (Messages.length === 0) return moved;
    const { Successful = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: to,
        Entries: Messages.map((message, index) => ({ Id: String(index), MessageBody: message.Body ?? '' })),
      }),
    );
    const sent = Successful.map((entry) => Messages[Number(entry.Id)]!);
    if (sent.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: from,
          Entries: sent.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
    }
    moved += sent.length;
  }
}
