// store: the ShardStore API over one disk, and the node over several.
export * from './types.js';
export * from './node_options.js';
