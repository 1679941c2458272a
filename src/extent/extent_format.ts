// Extent geometry and owner codes, shared by every format that names extents.

/** Who owns an extent. DO NOT CHANGE: on-disk values. */
export enum ExtentOwner {
  Free = 0,
  Data = 1,
  Index = 2,
  Meta = 3,
  Superblock = 4,
}

export function isExtentOwner(v: number): v is ExtentOwner {
  return Number.isInteger(v) && v >= 0 && v <= 4;
}

/** Frozen at format time and stored in the superblock. */
export interface Geometry {
  readonly pageSizeBytes: number;
  readonly extentSizeBytes: number;
  readonly extentCount: number;
  /** Extents 0..superblockExtents-1 hold the two superblock slots. */
  readonly superblockExtents: number;
}

export const MIN_EXTENT_SIZE_BYTES = 64 * 1024;
/** Locators store in-extent offsets as u32. */
export const MAX_EXTENT_SIZE_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_EXTENT_SIZE_BYTES = 64 * 1024 * 1024;
