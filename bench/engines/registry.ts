// Every embedded system the bench can drive, by row name.
import type { EngineSpec } from './engine.js';
import { PEER_SPECS } from './peers.js';
import { shardStoreSpec } from './shardstore.js';

export const ENGINE_SPECS: readonly EngineSpec[] = [shardStoreSpec('sparse'), shardStoreSpec('preallocated'), ...PEER_SPECS];

export function engineSpec(name: string): EngineSpec {
  const spec = ENGINE_SPECS.find((s) => s.name === name);
  if (spec === undefined) throw new RangeError(`no engine ${JSON.stringify(name)}; known: ${ENGINE_SPECS.map((s) => s.name).join(', ')}`);
  return spec;
}
