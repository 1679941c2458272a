// How a node is laid out on the host: one data file per disk under dataDir.
export interface NodeOptions {
  /** Folder holding one data file per disk (created if missing). */
  readonly dataDir: string;
  /** Number of disks (data files); fixed once the node is created. */
  readonly disks: number;
  /** Size of each data file when created (sparse unless preallocate). */
  readonly diskSizeBytes: number;
  /** Write each data file whole when creating it (FileDiskOptions.preallocate). */
  readonly preallocate?: boolean;
  readonly extentSizeBytes?: number;
  /** Explicit data files or block devices instead of dataDir/disk-N.dat. */
  readonly paths?: readonly string[];
}
