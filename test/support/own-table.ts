import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { createTableLike } from '../../local/resources';

/**
 * A task store on a table of the describe block's own, made like `source` (same keys and indexes)
 * before its tests and deleted after them: where the shared stack's suites and sweeper never act.
 * Call it inside `describe`; the store is there once `beforeAll` has run.
 */
export function ownTaskStore(client: DynamoDBDocumentClient, source: string, prefix: string): { readonly store: DynamoDbTaskStore; readonly tableName: string } {
  let tableName: string | undefined;
  let store: DynamoDbTaskStore | undefined;
  beforeAll(async () => {
    tableName = await createTableLike(client, source, `${prefix}-${randomUUID()}`);
    store = new DynamoDbTaskStore(client, tableName);
  });
  afterAll(async () => {
    if (tableName) await client.send(new DeleteTableCommand({ TableName: tableName }));
  });
  return {
    get tableName() {
      if (!tableName) throw new Error('the own table is made in beforeAll: use it inside a test');
      return tableName;
    },
    get store() {
      if (!store) throw new Error('the own table is made in beforeAll: use the store inside a test');
      return store;
    },
  };
}
