// Broken variants caught by the redundant-runs check (testing/mirror_check.ts).
// Each names the failure the check must report for it: caught by the wrong
// failure is not caught.
import { ChunkStream } from '../../src/chunk/index.js';
import type { Locator } from '../../src/chunk/index.js';
import { RunBuilder } from '../../src/index/run_builder.js';
import { RunHandle } from '../../src/index/run_reader.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/** `expect`: what checkRunMirrors must report with the mutant installed. */
export type MirrorMutant = Mutant;

/** The private step of RunHandle these mutants replace (a view for patching, not an API). */
interface ReaderInternals {
  readonly copies: readonly unknown[];
  fromEitherCopy(what: string, read: (copy: unknown, where: { chunk?: Locator }) => Promise<unknown>): Promise<unknown>;
}

/** The reader reads the primary only: a damaged primary chunk fails although the mirror is good. */
export const readerIgnoresMirror: MirrorMutant = {
  name: 'reader-ignores-mirror',
  bugClass: 'redundant metadata written but never read: one bad sector loses acknowledged data',
  caughtBy: 'mirror',
  expect: /primary (flip|unreadable): get .* gave (corrupt|io), the model/,
  install: () =>
    patch(RunHandle.prototype as unknown as ReaderInternals, 'fromEitherCopy', () =>
      function (this: ReaderInternals, _what: string, read: (copy: unknown, where: { chunk?: Locator }) => Promise<unknown>): Promise<unknown> {
        return read(this.copies[0], {});
      },
      2,
    ),
};

/**
 * The two index streams are not kept apart, and the builder's per-chunk
 * assertion that would notice is gone: both copies of a chunk share an
 * extent.
 */
export const mirrorSharesExtent: MirrorMutant = {
  name: 'mirror-shares-extent',
  bugClass: 'both copies of metadata in one failure domain: one bad extent loses both',
  caughtBy: 'mirror',
  expect: /chunk \d+: both copies in extent \d+/,
  install: () => {
    const unpair = patch(ChunkStream.prototype, 'pairWith', () => function (): void {});
    const builder = RunBuilder.prototype as unknown as { apart(p: Locator, m: Locator): [Locator, Locator] };
    const unassert = patch(builder, 'apart', () => (p: Locator, m: Locator): [Locator, Locator] => [p, m], 2);
    return () => {
      unassert();
      unpair();
    };
  },
};

export const MIRROR_MUTANTS: readonly MirrorMutant[] = [readerIgnoresMirror, mirrorSharesExtent];
