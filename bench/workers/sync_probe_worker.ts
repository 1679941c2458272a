// Run under `strace -f -c` by the parent (--verify-sync): open a system,
// put `puts` 4 KiB values one at a time, close. Run twice, with 0 and with
// N puts, the difference of the sync calls strace counted is the syncs the
// puts cost: a system whose acknowledged puts are durable shows at least
// one per put at one in flight.
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { engineSpec } from '../engines/registry.js';
import { childTask, runChild } from '../lib/child.js';

interface ProbeTask {
  readonly engine: string;
  readonly dir: string;
  readonly puts: number;
}

runChild(async () => {
  const task = childTask() as ProbeTask;
  await mkdir(task.dir, { recursive: true });
  const engine = await engineSpec(task.engine).open(task.dir, { capacityBytes: 64 * 1024 * 1024, format: true });
  const value = randomBytes(4096);
  for (let i = 0; i < task.puts; i++) await engine.put(Buffer.from(`probe/${i}`), value);
  await engine.close();
});
