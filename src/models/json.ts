/**
 * A strict JSON parser for untrusted headers: like JSON.parse, but it rejects duplicate keys (which
 * JSON.parse silently resolves to the last one — a way to smuggle a second meaning into a file),
 * limits nesting depth, and reports the offset of the first error.
 */
export class StrictJsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

export function parseStrictJson(text: string, maxDepth = 64): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const fail = (m: string): never => {
    throw new StrictJsonError(m, i);
  };
  const str = (): string => {
    if (text[i] !== '"') fail('expected a string');
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('control character in string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad string escape');
    }
  };
  /** The items of an object or array after its opening bracket: `item` reads one, until `close`. */
  const items = (close: '}' | ']', item: () => void): void => {
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === close) {
        i++;
        return;
      } else fail(`expected "," or "${close}"`);
    }
  };
  const value = (depth: number): unknown => {
    if (depth > maxDepth) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = Object.create(null);
      const seen = new Set<string>();
      items('}', () => {
        ws();
        const keyAt = i;
        const k = str();
        if (seen.has(k)) throw new StrictJsonError(`duplicate key "${k}"`, keyAt);
        seen.add(k);
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        obj[k] = value(depth + 1);
      });
      return obj;
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      items(']', () => arr.push(value(depth + 1)));
      return arr;
    }
    if (c === '"') return str();
    // sticky, on the whole text: a literal of any length is read whole (a 400-character window used
    // to split a long number and report valid JSON as broken)
    LITERAL.lastIndex = i;
    const m = LITERAL.exec(text);
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
