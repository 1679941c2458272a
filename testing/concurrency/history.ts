// The history of a concurrent key-value run: what each logical client
// invoked, when, and what it got back. The linearizability checker
// (linearizability.ts) reads it; harnesses write it with HistoryRecorder.
//
// Strategy: one record per operation with its real-time interval
// [call, ret] (the per-operation form Porcupine calls `Operation`), rather
// than a stream of call/return events: the checker needs the intervals
// anyway and a record cannot be half-written. Times are a logical counter
// that the recorder bumps at every invocation and response; in the
// single-threaded simulation those events are totally ordered, so the
// counter is exact and needs no clock.
//
// Outcome unknown: an operation that failed with an IO error, or was in
// flight when the node crashed, may or may not have taken effect. Its
// output is `unknown` and its `ret` is the latest time its effect could
// have happened: Infinity after an IO error (the store might still apply
// it later), the crash time for an operation cut short by a crash (a dead
// process applies nothing afterwards).
//
// Invariants:
// 1. Ids are unique; call < ret; call is finite; ret is finite unless the
//    output is unknown.
// 2. An output fits its input: put -> ok; get -> value | not-found;
//    delete -> ok | not-found; list -> keys; any -> unknown.
// 3. Keys and values are copied when recorded: a caller reusing its
//    buffers does not rewrite history.
import { createHash } from 'node:crypto';
import { NotFoundError, assert } from '../../src/base/index.js';

export type KvInput =
  | { readonly kind: 'put'; readonly key: Buffer; readonly value: Buffer }
  | { readonly kind: 'get'; readonly key: Buffer }
  | { readonly kind: 'delete'; readonly key: Buffer }
  | { readonly kind: 'list'; readonly prefix?: Buffer; readonly startAfter?: Buffer; readonly limit?: number };

export type KvOutput =
  | { readonly kind: 'ok' }
  | { readonly kind: 'value'; readonly value: Buffer }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'keys'; readonly keys: readonly Buffer[]; readonly truncated: boolean }
  | { readonly kind: 'unknown' };

export interface KvOperation {
  readonly id: number;
  readonly clientId: number;
  readonly input: KvInput;
  readonly output: KvOutput;
  /** Invocation time. */
  readonly call: number;
  /** Response time; for an unknown output, the latest time it could have taken effect (Infinity: no bound). */
  readonly ret: number;
}

interface OpenCall {
  readonly clientId: number;
  readonly input: KvInput;
  readonly call: number;
}

/** Records a history as it happens; see the header for the time and unknown-outcome rules. */
export class HistoryRecorder {
  private time = 0;
  private nextId = 0;
  private readonly open = new Map<number, OpenCall>();
  private readonly done: KvOperation[] = [];

  /** Returns the operation id to pass to `respond` or `fail`. */
  invoke(clientId: number, input: KvInput): number {
    const id = this.nextId++;
    this.open.set(id, { clientId, input: copyInput(input), call: ++this.time });
    return id;
  }

  /** The operation returned `output` (an `unknown` output is the same as `fail`). */
  respond(id: number, output: KvOutput): void {
    const open = this.take(id);
    const ret = output.kind === 'unknown' ? Infinity : ++this.time;
    this.done.push({ id, ...open, output: copyOutput(output), ret });
  }

  /** The operation failed (IO error): it may take effect at any time after its call, or never. */
  fail(id: number): void {
    this.respond(id, { kind: 'unknown' });
  }

  /** The operation failed without effect (e.g. Unavailable: its disk was out of service): it leaves the history. */
  discard(id: number): void {
    this.take(id);
  }

  /** The node crashed: every open operation took effect before now, or never. */
  crash(): void {
    const at = ++this.time;
    for (const [id, open] of [...this.open]) {
      this.open.delete(id);
      this.done.push({ id, ...open, output: { kind: 'unknown' }, ret: at });
    }
  }

  /** The history so far; operations still open count as failed (unknown, no deadline). */
  history(): KvOperation[] {
    const pending: KvOperation[] = [...this.open].map(([id, open]) => ({ id, ...open, output: { kind: 'unknown' }, ret: Infinity }));
    return [...this.done, ...pending].sort((a, b) => a.id - b.id);
  }

  get openCount(): number {
    return this.open.size;
  }

  private take(id: number): OpenCall {
    const open = this.open.get(id);
    assert(open !== undefined, `history: operation ${id} is not open`);
    this.open.delete(id);
    return open;
  }
}

/** The output a thrown error stands for: NotFoundError is an answer, anything else leaves the outcome unknown. */
export function outputOfError(err: unknown): KvOutput {
  return err instanceof NotFoundError ? { kind: 'not-found' } : { kind: 'unknown' };
}

/** Short printable digest of a value (values are compared by full digest, see linearizability.ts). */
export function valueDigest(value: Uint8Array): string {
  return createHash('sha256').update(value).digest('base64');
}

/** A key as readable text when it is printable ASCII, else hex. */
export function formatKey(key: Buffer): string {
  const printable = key.every((b) => b >= 0x20 && b < 0x7f && b !== 0x22);
  return printable ? `"${key.toString('latin1')}"` : `0x${key.toString('hex')}`;
}

function formatValue(value: Buffer): string {
  return `v:${createHash('sha256').update(value).digest('hex').slice(0, 8)}(${value.length}B)`;
}

function formatInput(input: KvInput): string {
  switch (input.kind) {
    case 'put':
      return `put(${formatKey(input.key)}, ${formatValue(input.value)})`;
    case 'get':
    case 'delete':
      return `${input.kind}(${formatKey(input.key)})`;
    case 'list': {
      const args: string[] = [];
      if (input.prefix !== undefined) args.push(`prefix=${formatKey(input.prefix)}`);
      if (input.startAfter !== undefined) args.push(`startAfter=${formatKey(input.startAfter)}`);
      if (input.limit !== undefined) args.push(`limit=${input.limit}`);
      return `list(${args.join(', ')})`;
    }
  }
}

function formatOutput(output: KvOutput): string {
  switch (output.kind) {
    case 'ok':
    case 'not-found':
    case 'unknown':
      return output.kind;
    case 'value':
      return formatValue(output.value);
    case 'keys':
      return `[${output.keys.map(formatKey).join(', ')}]${output.truncated ? ' truncated' : ''}`;
  }
}

/** One line: `#id c<client> [call,ret] input -> output`. */
export function formatOperation(op: KvOperation): string {
  const ret = op.ret === Infinity ? '∞' : String(op.ret);
  return `#${op.id} c${op.clientId} [${op.call},${ret}] ${formatInput(op.input)} -> ${formatOutput(op.output)}`;
}

function copyInput(input: KvInput): KvInput {
  switch (input.kind) {
    case 'put':
      return { kind: 'put', key: Buffer.from(input.key), value: Buffer.from(input.value) };
    case 'get':
    case 'delete':
      return { kind: input.kind, key: Buffer.from(input.key) };
    case 'list':
      return {
        kind: 'list',
        ...(input.prefix === undefined ? {} : { prefix: Buffer.from(input.prefix) }),
        ...(input.startAfter === undefined ? {} : { startAfter: Buffer.from(input.startAfter) }),
        ...(input.limit === undefined ? {} : { limit: input.limit }),
      };
  }
}

function copyOutput(output: KvOutput): KvOutput {
  switch (output.kind) {
    case 'value':
      return { kind: 'value', value: Buffer.from(output.value) };
    case 'keys':
      return { kind: 'keys', keys: output.keys.map((k) => Buffer.from(k)), truncated: output.truncated };
    default:
      return output;
  }
}
