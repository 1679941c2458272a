// The SigV4 verifier against the AWS SDK's signer (@smithy/signature-v4) on
// thousands of random requests (testing/sigv4_compare.ts says how): equal
// verdicts, with a fixed seed so a failure replays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWithSmithy } from './sigv4_compare.js';

void test('the verifier and @smithy/signature-v4 agree on 2000 random requests, changed or not', async () => {
  // Checks invariants 1-3 of sigv4_compare.ts: signed requests verify in any
  // path encoding, an added unsigned x-amz-* header is refused with
  // AccessDenied naming it, every other change with SignatureDoesNotMatch.
  const details = await compareWithSmithy({ seed: 1204, numRuns: 2000 });
  assert.equal(details.failed, false, `counterexample ${JSON.stringify(details.counterexample)}: ${String(details.errorInstance)}`);
});
