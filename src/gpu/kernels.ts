/**
 * Kernel registry: WGSL sources by op name, with the `shaders/lib/` helpers each kernel declares in
 * a `// requires: a, b` header line concatenated in front.
 */
import { KERNEL_SOURCES, LIB_SOURCES } from './shaders.gen.js';
import { OpInputError } from '../errors.js';

const cache = new Map<string, string>();

export function kernelNames(): string[] {
  return Object.keys(KERNEL_SOURCES);
}

/** Full WGSL for a kernel (helpers first). Unknown names throw OpInputError. */
export function kernelSource(name: string, overrideSource?: string): string {
  if (overrideSource !== undefined) return overrideSource;
  const hit = cache.get(name);
  if (hit) return hit;
  const src = KERNEL_SOURCES[name];
  if (src === undefined)
    throw new OpInputError('kernel', `no kernel named "${name}" (have: ${kernelNames().join(', ')})`);
  const req = /^\/\/ requires:(.*)$/m.exec(src);
  const libs = req
    ? req[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  const parts: string[] = [];
  for (const lib of libs) {
    const l = LIB_SOURCES[lib];
    if (l === undefined) throw new OpInputError('kernel', `kernel "${name}" requires unknown helper "${lib}"`);
    parts.push(l);
  }
  parts.push(src);
  const full = parts.join('\n');
  cache.set(name, full);
  return full;
}
