// disk: the Disk interface and the file-backed disk.
export * from './disk.js';
export * from './file_disk.js';
export * from './host_fs.js';
export * from './disk_lock.js';
