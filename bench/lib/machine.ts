// The machine a run was measured on, recorded with every run: numbers from
// another machine, or from the same machine under other load, are not
// comparable.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';
import { CRC32C_IMPLEMENTATION } from '../../src/base/checksum.js';
import { MD5_OFF_LOOP } from '../../src/base/md5.js';
import { writeback } from '../../src/disk/writeback.js';
import { loadTriple } from './os.js';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly uvThreadpoolSize: string;
  /** `df -h` of the scratch folder's file system. */
  readonly df: string;
  readonly lsblk: string;
  readonly mount: string;
  readonly loadAvgStart: [number, number, number];
  loadAvgEnd?: [number, number, number];
  readonly dropCaches: boolean;
  /** Which CRC32C the engine runs (src/base/checksum.ts): the three-stream addon, or @node-rs/crc32 where it did not build. */
  readonly crc32c: string;
  /** Whether FileDisk starts the writeback of large writes as they land (native/writeback built, src/disk/writeback.ts). */
  readonly earlyWriteback: string;
  /** Where the MD5 of large S3 bodies runs (src/base/md5.ts). */
  readonly md5: string;
  /** The code measured: commit, and the files changed since (others edit the tree while benches run). */
  readonly git: string;
}

export function describeMachine(scratch: string, dropCaches: boolean): Machine {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
    df: tryRun('df', ['-h', scratch]),
    lsblk: tryRun('lsblk', ['-o', 'NAME,SIZE,TYPE,ROTA,MOUNTPOINTS']),
    mount: tryRun('findmnt', ['-n', '-T', scratch]),
    loadAvgStart: loadTriple(),
    dropCaches,
    crc32c: CRC32C_IMPLEMENTATION,
    md5: MD5_OFF_LOOP,
    earlyWriteback: writeback === undefined ? 'off (native/writeback not built)' : 'on (native/writeback)',
    git: `${tryRun('git', ['rev-parse', '--short', 'HEAD'])}; ${tryRun('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bin', 'testing']).split('\n').filter((l) => l.trim() !== '').length} tracked files changed in src/ bin/ testing/`,
  };
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (err: unknown) {
    return `(${cmd} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}
