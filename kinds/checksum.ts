import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { z } from 'zod';
import { defineTaskKind } from '#lib/tasks/kind';

const CHUNK_BYTES = 64 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;

/**
 * The digest of a body, as `sha256sum` would print it: of `data` (base64) repeated `repeat` times,
 * so that a small request can stand for a body of up to 4 GiB. Reads it a chunk at a time, reporting
 * progress and stopping between chunks when its signal aborts.
 */
export const checksum = defineTaskKind({
  name: 'checksum',
  description: 'The hex digest (sha256, sha512, sha1 or md5) of `data_base64` repeated `repeat` times, with progress.',
  payload: z.strictObject({
    // Non-empty base64 by construction (one pattern, so the OpenAPI document says the same).
    data_base64: z.string({ error: 'must be a string' }).regex(BASE64, 'must be base64'),
    algorithm: z.enum(['sha256', 'sha512', 'sha1', 'md5']).default('sha256'),
    repeat: z.int('must be a whole number').min(1, 'must be at least 1').max(100_000, 'must be at most 100000').default(1),
  }),
  result: z.object({ algorithm: z.string(), digest: z.string(), bytes: z.int() }),
  timeoutSeconds: 60,
  attempts: 2,
  async run({ data_base64, algorithm, repeat }, { signal, progress }) {
    const data = Buffer.from(data_base64, 'base64');
    const hash = createHash(algorithm);
    const total = data.length * repeat;
    let done = 0;
    for (let copy = 0; copy < repeat; copy++) {
      for (let offset = 0; offset < data.length; offset += CHUNK_BYTES) {
        const chunk = data.subarray(offset, offset + CHUNK_BYTES);
        hash.update(chunk);
        done += chunk.length;
        if (done % (16 * CHUNK_BYTES) < chunk.length || done === total) {
          progress(done / total, `${done} of ${total} bytes`);
          // Between chunks: a cancel or the timeout stops the work here.
          await yieldToLoop();
          signal.throwIfAborted();
        }
      }
    }
    return { algorithm, digest: hash.digest('hex'), bytes: total };
  },
});
