// The metadata-faults suite for `shardstore check`: sequences of mutations
// and background work with episodes of metadata damage (a bit flip or an
// unreadable sector in one or every copy of the label, a checkpoint, a
// metadata-log record, a run block or run index chunk), each after a clean
// or dirty reboot: never silently absent, fsck reports, tools never write
// (testing/metadata_faults.ts).
import { METADATA_CONFIG, formatMetaOps, metaFaultSequenceArb, runMetaFaultSequence } from '../metadata_faults.js';
import type { MetaFaultFocus, MetaOp } from '../metadata_faults.js';
import { sequenceSuite } from './sequence_suite.js';
import type { Suite } from './suite.js';

/** The suite over every target and damage; `focus` narrows it (the broken variants' tests). */
export function metadataFaultsSuite(focus: MetaFaultFocus = {}): Suite {
  return sequenceSuite<MetaOp>({
    format: formatMetaOps,
    name: 'metadata-faults',
    ops: metaFaultSequenceArb(METADATA_CONFIG, focus),
    run(seq, seed, counters) {
      return runMetaFaultSequence(seq, METADATA_CONFIG, seed, counters);
    },
  });
}

export const metaFaultsSuite: Suite = metadataFaultsSuite();
