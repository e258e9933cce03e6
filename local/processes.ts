import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** A TCP port on loopback that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** What the process wrote last, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// If the launcher itself goes away, nothing it started may stay behind.
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Starts a child process that is killed with its launcher, and keeps the tail of its output. */
export function startProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  /** Print the process's output here: every line, or the lines this answers true for. */
  echo: boolean | ((line: string) => boolean) = false,
  /** Called with every line of its output, stdout and stderr (a function's WARN and ERROR lines go to stderr). */
  onOutputLine?: (line: string) => void,
  cwd?: string,
): ManagedProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  if (onOutputLine) {
    for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onOutputLine);
  }
  let stopping = false;
  if (echo) {
    const shown = typeof echo === 'function' ? echo : () => true;
    for (const stream of [child.stdout, child.stderr]) {
      // What a process says while it is being killed (esbuild's service panics on a closed pipe) is noise.
      if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => !stopping && shown(line) && console.log(line));
    }
  }
  running.add(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  return {
    child,
    output: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(5_000, undefined, { ref: false }).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Polls `probe` until it resolves, failing early if `process` exits and after `timeoutMs`. */
export async function waitUntilReady(
  name: string,
  probe: () => Promise<unknown>,
  managed?: ManagedProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (managed && managed.child.exitCode !== null) {
      throw new Error(`${name} exited with code ${managed.child.exitCode}:\n${managed.output()}`);
    }
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await sleep(100);
    }
  }
  throw new Error(`${name} was not ready after ${timeoutMs} ms: ${String(lastError)}\n${managed?.output() ?? ''}`);
}
