import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What one call consumed, as DynamoDB reported it: units of the table itself, and of its indexes. */
export interface CallCapacity {
  table: number;
  indexes: number;
}

/** Capacity DynamoDB reported, by command (`UpdateItemCommand`, ...): each call's, in call order. */
export type CapacityByCommand = Map<string, CallCapacity[]>;

interface ConsumedCapacity {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

/**
 * Asks DynamoDB, on every call of `client`, for the capacity the call consumed
 * (`ReturnConsumedCapacity: INDEXES`) and records it as DynamoDB reports it: how the bench and the
 * tests know what a status write is billed, rather than assuming it.
 */
export function meterCapacity(client: DynamoDBDocumentClient): CapacityByCommand {
  const used: CapacityByCommand = new Map();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'INDEXES';
      const result = await next(args);
      const reported = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      const entries = Array.isArray(reported) ? reported : reported ? [reported] : [];
      const call = entries.reduce<CallCapacity>(
        (sum, entry) => ({
          table: sum.table + (entry.Table?.CapacityUnits ?? entry.CapacityUnits ?? 0),
          indexes: sum.indexes + Object.values(entry.GlobalSecondaryIndexes ?? {}).reduce((n, index) => n + (index.CapacityUnits ?? 0), 0),
        }),
        { table: 0, indexes: 0 },
      );
      const command = context.commandName ?? 'unknown';
      used.set(command, [...(used.get(command) ?? []), call]);
      return result;
    },
    { step: 'initialize', name: 'meterConsumedCapacity' },
  );
  return used;
}
