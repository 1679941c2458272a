// A long-lived child that answers requests (the load-generating clients and
// s3rver), as opposed to the one-task children of child.ts: spawning one
// per cell would cost a second of start-up each.
//
// Parent: ServiceChild.start() forks bench/workers/<name>.ts; request()
// sends { id, body } and resolves with the child's answer for that id.
// Child: serveRequests(handler) answers each request in turn.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { START_NODE_FLAGS } from './dist.js';

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly body: unknown;
}

function isReply(m: unknown): m is Reply {
  return typeof m === 'object' && m !== null && 'id' in m && 'ok' in m && typeof m.id === 'number';
}

export class ServiceChild {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    child.on('message', (m: unknown) => {
      if (!isReply(m)) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (w === undefined) return;
      if (m.ok) w.resolve(m.body);
      else w.reject(new Error(`${name}: ${String(m.body)}`));
    });
    this.exit = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = true;
        for (const w of this.waiting.values()) w.reject(new Error(`${name} exited (${signal ?? `code ${String(code)}`})`));
        this.waiting.clear();
        resolve();
      });
    });
  }

  static start(name: string, env: NodeJS.ProcessEnv = process.env): ServiceChild {
    const script = fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url));
    const child = fork(script, [], { execArgv: [...process.execArgv, ...START_NODE_FLAGS], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
    return new ServiceChild(child, name);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  /** Send `body`; resolves with the answer, rejects after `timeoutMs`. */
  request(body: unknown, timeoutMs = 120_000): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = <T>(fn: (v: T) => void) => (v: T): void => {
        clearTimeout(timer);
        fn(v);
      };
      this.waiting.set(id, { resolve: done(resolve), reject: done(reject) });
      this.child.send({ id, body });
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exit;
    clearTimeout(timer);
  }
}

/** Child side: answer each request with handler's result (or its error's message). */
export function serveRequests(handler: (body: unknown) => Promise<unknown>): void {
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || !('id' in m) || typeof m.id !== 'number') return;
    const id = m.id;
    const body: unknown = 'body' in m ? m.body : undefined;
    void handler(body).then(
      (result) => process.send?.({ id, ok: true, body: result }),
      (err: unknown) => process.send?.({ id, ok: false, body: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
  process.on('SIGTERM', () => process.exit(0));
}
