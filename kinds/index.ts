import type { AnyTaskKind } from '#lib/tasks/kind';
import { checksum } from './checksum';
import { compress } from './compress';

/**
 * The team's task kinds: one file each in this folder, listed here once. The built-in `simulated`
 * kind (the default) is added by the service itself (lib/container.ts).
 */
export const kinds: readonly AnyTaskKind[] = [checksum, compress];
