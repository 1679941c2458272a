// extent: geometry, owners, append at the write pointer, reset.
export * from './extent_format.js';
export * from './extent_manager.js';
export * from './host_space.js';
