// dependency: the Dependency graph, latches, and the group-commit IO scheduler.
export * from './dependency.js';
export * from './io_scheduler.js';
