// tier: quick (npm run test:quick; docs/TESTING.md)
// The bench's write amplification comes from the block device's own count
// (bench/lib/os.ts, deviceWrittenBytes), found from a path's dev_t: the
// decoding of dev_t must match Linux's encoding (glibc's makedev), or the
// bench reads another device's counters, or none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceNumbers, deviceWrittenBytes } from '../bench/lib/os.js';

/** glibc's makedev: the inverse deviceNumbers must undo. */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & 0xfffff000n) << 32n) | (mi & 0xffn) | ((mi & 0xffffff00n) << 12n);
}

void test('dev_t decodes to the major and minor Linux encoded, small and large', () => {
  assert.deepEqual(deviceNumbers(0xfe00n), { major: 254, minor: 0 }, 'virtio disk vda, as stat(1) prints it (fe00)');
  for (const [major, minor] of [
    [8, 1],
    [259, 3],
    [8, 300],
    [4100, 70000],
  ] as const) {
    assert.deepEqual(deviceNumbers(makedev(major, minor)), { major, minor });
  }
});

void test('a path on no block device (procfs) has no device write count', () => {
  assert.equal(deviceWrittenBytes('/proc'), undefined);
});
