/**
 * Kernel registry: WGSL sources by op name, with the `shaders/lib/` helpers each kernel declares in
 * a `// requires: a, b` header line concatenated in front.
 *
 * Variant helpers: a required name in VARIANT_LIBS is a slot, filled by the lib the variant picks —
 * `f16` is `f16_packed` (u32 words + unpack2x16float, any device) or `f16_native` (vec2<f16> words,
 * only where the device has `shader-f16`). One kernel source serves every variant; `enable`
 * directives from any piece are moved to the top of the module, where WGSL requires them.
 */
import { KERNEL_SOURCES, LIB_SOURCES } from './shaders.gen.js';
import { OpInputError } from '../errors.js';

/** How f16 weight words are read: 'native' needs the device feature `shader-f16`. */
export type F16Path = 'native' | 'packed';

/** A kernel's source variant (part of the pipeline cache key); every field defaults to the portable choice. */
export interface KernelVariant {
  f16?: F16Path;
}

/** slot → lib file per choice (a kernel's `// requires:` may name a slot instead of a lib) */
export const VARIANT_LIBS: Readonly<Record<keyof KernelVariant, Readonly<Record<F16Path, string>>>> = {
  f16: { packed: 'f16_packed', native: 'f16_native' },
};

const cache = new Map<string, string>();

export function kernelNames(): string[] {
  return Object.keys(KERNEL_SOURCES);
}

/** The variant's cache-key form ('' for the default): only the fields that differ from the default. */
export function variantKey(v: KernelVariant = {}): string {
  return v.f16 === 'native' ? 'f16=native' : '';
}

/** The lib names a kernel's `// requires:` line lists, slots resolved for the variant. */
function requiredLibs(src: string, v: KernelVariant): string[] {
  const req = /^\/\/ requires:(.*)$/m.exec(src);
  if (!req) return [];
  return req[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((lib) => (lib in VARIANT_LIBS ? VARIANT_LIBS[lib as keyof KernelVariant][v.f16 ?? 'packed'] : lib));
}

/** Full WGSL for a kernel (helpers first, `enable` directives on top). Unknown names throw OpInputError. */
export function kernelSource(name: string, overrideSource?: string, variant: KernelVariant = {}): string {
  if (overrideSource !== undefined) return overrideSource;
  const key = `${name}:${variantKey(variant)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const src = KERNEL_SOURCES[name];
  if (src === undefined)
    throw new OpInputError('kernel', `no kernel named "${name}" (have: ${kernelNames().join(', ')})`);
  const parts: string[] = [];
  for (const lib of requiredLibs(src, variant)) {
    const l = LIB_SOURCES[lib];
    if (l === undefined) throw new OpInputError('kernel', `kernel "${name}" requires unknown helper "${lib}"`);
    parts.push(l);
  }
  parts.push(src);
  const body = parts.join('\n');
  const directive = /^enable [^;]+;[ \t]*$/gm;
  const enables = [...new Set(body.match(directive) ?? [])];
  const full = enables.length ? `${enables.join('\n')}\n${body.replace(directive, '')}` : body;
  cache.set(key, full);
  return full;
}
