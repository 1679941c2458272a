// A deliberately broken variant of the engine: installing it patches one
// method of a production class (through its prototype, so src/ carries no
// test hooks); the returned function restores the original. Each mutant
// stands for one bug class the checks must catch (SYSTEM.md section 2).

export interface Mutant {
  readonly name: string;
  /** The bug class, in the words of the paper's table where one fits. */
  readonly bugClass: string;
  /** Which suite is expected to catch it. */
  readonly caughtBy: 'conformance' | 'crash' | 'faults' | 'concurrency' | 'node' | 'node-crash' | 'mirror' | 'metadata-faults' | 'auth' | 'http';
  /** The failure it must cause (matched against the failure's message); any failure counts without it. */
  readonly expect?: RegExp;
  install(): () => void;
}

/** Replace `proto[name]` with `make(original)`; returns the restore function. */
export function patch<T extends object, K extends keyof T>(proto: T, name: K, make: (original: T[K]) => T[K]): () => void {
  const original = proto[name];
  proto[name] = make(original);
  return () => {
    proto[name] = original;
  };
}
