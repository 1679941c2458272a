// reclaim: live-byte accounting and reclamation of data extents.
export * from './live_bytes.js';
export * from './reclaimer.js';
