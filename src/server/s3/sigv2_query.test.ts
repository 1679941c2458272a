// tier: quick (npm run test:quick; docs/TESTING.md)
// hasQueryName (sigv2.ts) finds a parameter by its name as sent without
// splitting the query (it runs on every request): checked against the
// split it replaced, on queries of few letters so that names, prefixes of
// names, empty parts and '=' inside values all come up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hasQueryName } from './sigv2.js';

void test('hasQueryName answers as splitting the query on & and each part at its first = does', () => {
  const text = fc.string({ unit: fc.constantFrom('S', 'i', 'g', '=', '&', 'a'), maxLength: 16 });
  const name = fc.oneof(fc.string({ unit: fc.constantFrom('S', 'i', 'g', 'a'), minLength: 1, maxLength: 4 }), fc.constantFrom('Sig', 'Signature', 'X-Amz-Algorithm'));
  fc.assert(
    fc.property(text, name, (query, n) => {
      const split = query.split('&').map((part) => part.split('=', 1)[0]);
      assert.equal(hasQueryName(query, n), split.includes(n), JSON.stringify({ query, n }));
    }),
    { seed: 20261207, numRuns: 2000 },
  );
  assert.equal(hasQueryName('X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab', 'X-Amz-Algorithm'), true);
  assert.equal(hasQueryName('AWSAccessKeyId=a&Expires=1&Signature=x', 'Signature'), true);
  assert.equal(hasQueryName('prefix=Signature', 'Signature'), false);
});
