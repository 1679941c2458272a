// store: the ShardStore API over one disk, and the node over several.
export * from './types.js';
export * from './node_options.js';
export * from './store_options.js';
export * from './metalog_format.js';
export * from './disk_store.js';
export * from './open.js';
export * from './node.js';
