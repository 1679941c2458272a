// base: errors, assertions, checksums, MD5 off the event loop, binary encoding, randomness.
export * from './errors.js';
export * from './assert.js';
export * from './checksum.js';
export * from './md5.js';
export * from './encoding.js';
export * from './random.js';
export * from './clock.js';
