// chunk: framing, locators, the chunk store, scans, the buffer cache.
export * from './chunk_format.js';
export * from './chunk_io.js';
