// base: errors, assertions, checksums, binary encoding, randomness.
export * from './errors.js';
export * from './assert.js';
export * from './checksum.js';
export * from './encoding.js';
export * from './random.js';
export * from './clock.js';
