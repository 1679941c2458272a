// chunk: framing, locators, the chunk store, scans, the buffer cache.
export * from './chunk_format.js';
export * from './chunk_io.js';
export * from './chunk_codec.js';
export * from './buffer_cache.js';
export * from './chunk_store.js';
export { chunkDataBytes, dataHeader, dataPayloadKey, splitDataPayload } from './data_payload.js';
export { FrameSlab } from './frame_slab.js';
