// `shardstore check --replay TOKEN|FILE`: rerun one failure in this process.
// The token fixes the suite, the seed and fast-check's shrink path, so the
// rerun goes straight to the minimized sequence. A mutant the failure was
// found under (the file's `mutant:` line, or --mutant) is installed for the
// rerun and restored after it.
import { existsSync } from 'node:fs';
import { UsageError } from '../../src/cli/index.js';
import { classifyFailure } from './failure_kind.js';
import type { FailureKind } from './failure_kind.js';
import { raceHang } from './hang_watch.js';
import { mutantNamed } from './mutant_registry.js';
import { loadSuite } from './registry.js';
import { readReplayFile } from './replay_file.js';
import type { ReplaySpec } from './replay_file.js';
import { emptyCounters, parseToken } from './suite.js';
import type { SeedResult, SuiteCounters } from './suite.js';

export interface ReplayOutcome {
  readonly token: string;
  readonly mutant: string | null;
  readonly failed: boolean;
  readonly message: string | null;
  readonly minimized: string | null;
  /** finding, hang or harness-error (failure_kind.ts); null when it passed. */
  readonly kind: FailureKind | null;
  readonly counters: SuiteCounters;
}

/** A token as is, else the path of a replay file. Throws UsageError. */
export function resolveReplayTarget(target: string): ReplaySpec {
  try {
    parseToken(target);
    return { token: target.trim() };
  } catch (err: unknown) {
    if (!(err instanceof RangeError)) throw err;
  }
  if (!existsSync(target)) throw new UsageError(`--replay: ${JSON.stringify(target)} is neither a token (suite:seed:path) nor a replay file`);
  try {
    return readReplayFile(target);
  } catch (err: unknown) {
    throw new UsageError(`--replay: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Reruns the failure `target` names; `mutant` (--mutant) wins over the file's. Throws UsageError. */
export async function replayFailure(target: string, mutant?: string): Promise<ReplayOutcome> {
  const spec = resolveReplayTarget(target);
  const mutantName = mutant ?? spec.mutant;
  const variant = mutantName === undefined ? undefined : mutantNamed(mutantName);
  if (mutantName !== undefined && variant === undefined) throw new UsageError(`--replay: unknown mutant ${JSON.stringify(mutantName)}`);
  const suite = await loadSuite(parseToken(spec.token).suite).catch((err: unknown) => {
    throw err instanceof RangeError ? new UsageError(`--replay: ${err.message}`) : err;
  });
  const restore = variant?.install();
  try {
    // Under the hang watch, as in a worker: a hung replay says so instead of never returning.
    const hung = (message: string): SeedResult => ({ counters: emptyCounters(), failure: { token: spec.token, message, minimized: '' } });
    const result = await raceHang(`replay of ${spec.token}`, () => suite.replay(spec.token), hung).catch((err: unknown) => threw(spec.token, err));
    const failure = result.failure;
    return {
      token: spec.token,
      mutant: mutantName ?? null,
      failed: failure !== undefined,
      message: failure?.message ?? null,
      minimized: failure?.minimized ?? null,
      kind: failure === undefined ? null : (failure.kind ?? classifyFailure(failure.message)),
      counters: result.counters,
    };
  } finally {
    restore?.();
  }
}

/** A suite that throws during a replay still fails: say so rather than crash the command. */
function threw(token: string, err: unknown): SeedResult {
  const message = `suite threw on replay: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  return { counters: emptyCounters(), failure: { token, message, minimized: '' } };
}
