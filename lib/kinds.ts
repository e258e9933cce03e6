import { kinds } from '#kinds/index';
import { createKindRegistry, type KindRegistry } from '#lib/tasks/kind';
import { simulatedKind } from '#lib/tasks/work';

/**
 * The kinds a deployment runs: the built-in simulated job (the default kind), then the team's own
 * from kinds/index.ts. The settings only steer the simulated job's work, never a schema, so the
 * OpenAPI document is the same whatever they are.
 */
export function serviceKinds({ workMs = 0, simulation = false }: { workMs?: number; simulation?: boolean } = {}): KindRegistry {
  return createKindRegistry([simulatedKind(workMs, { simulation }), ...kinds]);
}
