// tools: the offline tools over a node's data files: fsck, inspect and
// repair (salvage). They open disks read-only (repair excepted) and never
// run beside a server (the disk lock refuses it).
export { fsckClean, fsckNode, fsckDisk, fsckOpenDisk, MAX_FSCK_PROBLEMS } from './fsck.js';
export type { FsckDiskReport, FsckOptions, FsckProgress, SlotReport } from './fsck.js';
export { extentMap, inspectNode, inspectDisk } from './inspect.js';
export type { DiskExtentMap, ExtentCell, OwnerName } from './inspect.js';
export { salvageDiskStore } from './salvage.js';
export type { SalvageReport } from './salvage.js';
