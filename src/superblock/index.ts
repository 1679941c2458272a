// superblock: the label, the two checkpoint slots, and where a disk's state starts.
export * from './superblock_format.js';
export * from './superblock.js';
