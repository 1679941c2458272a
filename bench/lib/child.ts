// Both ends of the parent/child protocol (protocol.ts).
//
// Parent: forkWorker() runs one bench/workers/*.ts file in a child process
// (with the parent's --import tsx), hands it a JSON task, relays its
// progress, collects its rows, and fails it after a time limit.
// Child: childTask() reads the task, send() reports, runChild() wraps the
// child's main so that an error becomes a `failed` message and an exit code.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { START_NODE_FLAGS } from './dist.js';
import { isChildMessage } from './protocol.js';
import type { ChildMessage, Row } from './protocol.js';

export interface WorkerOutcome {
  readonly rows: Row[];
  readonly skipped: Array<{ what: string; reason: string }>;
  /** Undefined when the child finished with `done`. */
  readonly error?: string;
}

export interface ForkOptions {
  /** Kill the child (SIGKILL) after this long. */
  readonly timeoutMs: number;
  readonly onProgress: (text: string) => void;
  readonly onRow: (row: Row) => void;
  /** Extra node flags for the child (e.g. --cpu-prof). */
  readonly execArgv?: readonly string[];
  /** Called with the child once it is forked (the open rows kill it). */
  readonly onChild?: (child: ChildProcess) => void;
}

/** Run bench/workers/<name>.ts with `task`; resolves when the child exits. */
export function forkWorker(name: string, task: unknown, options: ForkOptions): Promise<WorkerOutcome> {
  const script = fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url));
  const child = fork(script, [JSON.stringify(task)], {
    execArgv: [...process.execArgv, ...START_NODE_FLAGS, ...(options.execArgv ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  options.onChild?.(child);
  const rows: Row[] = [];
  const skipped: Array<{ what: string; reason: string }> = [];
  let finished = false;
  let failure: string | undefined;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      failure = `timed out after ${Math.round(options.timeoutMs / 1000)} s`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('message', (message: unknown) => {
      if (!isChildMessage(message)) return;
      handle(message);
    });
    const handle = (m: ChildMessage): void => {
      if (m.kind === 'progress') options.onProgress(m.text);
      else if (m.kind === 'row') {
        rows.push(m.row);
        options.onRow(m.row);
      } else if (m.kind === 'skip') skipped.push({ what: m.what, reason: m.reason });
      else if (m.kind === 'done') finished = true;
      else failure = m.message;
    };
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!finished && failure === undefined) failure = `exited with ${signal ?? `code ${String(code)}`} before finishing`;
      resolve(failure === undefined ? { rows, skipped } : { rows, skipped, error: failure });
    });
  });
}

/** The task the parent passed (argv[2]), as JSON. */
export function childTask(): unknown {
  const text = process.argv[2];
  if (text === undefined) throw new Error('no task given: this file is run by bench/run.ts');
  return JSON.parse(text) as unknown;
}

/** Report to the parent (or print, when run by hand without IPC). */
export function send(message: ChildMessage): Promise<void> {
  if (process.send === undefined) {
    process.stdout.write(JSON.stringify(message) + '\n');
    return Promise.resolve();
  }
  const sendFn = process.send.bind(process);
  return new Promise((resolve, reject) => {
    sendFn(message, undefined, {}, (err: Error | null) => (err === null ? resolve() : reject(err)));
  });
}

export function progress(text: string): Promise<void> {
  return send({ kind: 'progress', text });
}

/** Run a child's main; exit 0 after `done`, 1 after `failed`. */
export function runChild(main: () => Promise<void>): void {
  main()
    .then(() => send({ kind: 'done' }))
    .then(() => process.exit(0))
    .catch(async (err: unknown) => {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      // If even this fails the parent is gone; the exit code still says it.
      await send({ kind: 'failed', message }).catch((sendErr: unknown) => process.stderr.write(`${message}\n(and could not report it: ${String(sendErr)})\n`));
      process.exit(1);
    });
}
