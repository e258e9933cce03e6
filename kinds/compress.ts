import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import { z } from 'zod';
import { defineTaskKind, PermanentTaskError } from '#lib/tasks/kind';

const CHUNK_BYTES = 16 * 1024;

/** The most compressed bytes `return_data` answers: a result stays well under what a task keeps. */
const MAX_RETURNED_BYTES = 64 * 1024;

/**
 * Compresses a text with gzip or brotli through Node's streams: progress as the input is read, and
 * the stream torn down at once when its signal aborts.
 */
export const compress = defineTaskKind({
  name: 'compress',
  description: 'Compresses `text` with gzip or brotli; answers the sizes and, when asked and under 64 KiB, the compressed bytes as base64.',
  payload: z.strictObject({
    text: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
    format: z.enum(['gzip', 'brotli']).default('gzip'),
    level: z.int('must be a whole number').min(1, 'must be at least 1').max(9, 'must be at most 9').default(6),
    return_data: z.boolean({ error: 'must be true or false' }).default(false),
  }),
  result: z.object({
    format: z.enum(['gzip', 'brotli']),
    input_bytes: z.int(),
    output_bytes: z.int(),
    ratio: z.number(),
    data_base64: z.string().optional(),
  }),
  timeoutSeconds: 30,
  concurrency: 4,
  async run({ text, format, level, return_data }, { signal, progress }) {
    const input = Buffer.from(text, 'utf8');
    const compressor =
      format === 'gzip' ? createGzip({ level }) : createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: level } });
    let read = 0;
    const source = Readable.from(
      (function* chunks() {
        for (let offset = 0; offset < input.length; offset += CHUNK_BYTES) {
          const chunk = input.subarray(offset, offset + CHUNK_BYTES);
          read += chunk.length;
          progress(read / input.length, `${read} of ${input.length} bytes read`);
          yield chunk;
        }
      })(),
    );
    const output: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output.push(chunk);
        done();
      },
    });
    await pipeline(source, compressor, sink, { signal });
    const compressed = Buffer.concat(output);
    if (return_data && compressed.length > MAX_RETURNED_BYTES) {
      throw new PermanentTaskError('OUTPUT_TOO_LARGE', `The compressed text is ${compressed.length} bytes; return_data allows at most ${MAX_RETURNED_BYTES}`);
    }
    return {
      format,
      input_bytes: input.length,
      output_bytes: compressed.length,
      ratio: Number((compressed.length / input.length).toFixed(4)),
      ...(return_data ? { data_base64: compressed.toString('base64') } : {}),
    };
  },
});
