/**
 * Where a model may come from: the page's own origin plus an allowlist. A leaf module (errors only),
 * so the main thread checks a URL (src/ui/engine-host.ts, through src/worker/protocol.ts) without the
 * loaders, and the worker checks it again before any fetch (src/models/load.ts).
 */
import { OriginNotAllowedError } from '../errors.js';

export interface OriginOptions {
  /** origins a model URL may come from besides the page's own; "*" lifts the check */
  allowedOrigins?: string[];
}

/** The origins a URL may come from: the page's own (if any) and `allowedOrigins`; null = unrestricted. */
export function allowedOriginsFor(opts: OriginOptions): string[] | null {
  const own = typeof location !== 'undefined' && location.origin && location.origin !== 'null' ? [location.origin] : [];
  if (!opts.allowedOrigins) return own.length ? own : null;
  if (opts.allowedOrigins.includes('*')) return null;
  return [...own, ...opts.allowedOrigins.map((o) => normalizeOrigin(o))];
}

/** "https://Example.org:443/" → "https://example.org" (an origin as URL.origin writes it). */
function normalizeOrigin(o: string): string {
  try {
    const u = new URL(o);
    return u.origin !== 'null' ? u.origin : o;
  } catch {
    return o;
  }
}

/** Refuse a URL whose origin is not allowed (OriginNotAllowedError), before any fetch. */
export function checkOrigin(url: string, opts: OriginOptions): void {
  const allowed = allowedOriginsFor(opts);
  if (allowed === null) return;
  let origin: string;
  try {
    origin = new URL(url).origin; // blob: URLs carry their creator's origin; data: and others are "null"
  } catch {
    origin = 'null';
  }
  if (origin === 'null' || !allowed.includes(origin)) throw new OriginNotAllowedError(url, origin, allowed);
}
