// Bounded handling of values read from untrusted files: formatting them for error messages, clipping
// messages, listing names, and measuring JSON nesting, all iterative and length-capped, so a hostile
// file can neither overflow the stack (JSON.stringify and String() recurse) nor make a huge message.

/** The longest problem text a reader's error carries; longer ones are cut and end with "…". */
export const MAX_PROBLEM_LENGTH = 300;
/** How deeply nested a JSON value inside a file header or its metadata may be. */
export const MAX_JSON_DEPTH = 64;

/** Cuts `text` to at most `max` characters, ending with "…" when cut. */
export function clipText(text: string, max = MAX_PROBLEM_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * A short JSON-like rendering of an untrusted value, at most `max` characters (cut with "…").
 * Iterative: any nesting depth and size is safe (only the part that fits is visited).
 */
export function describeValue(value: unknown, max = 60): string {
  let out = '';
  // Work items: a value to render, or a literal piece of text (closing brackets, separators).
  const stack: ({ text: string } | { value: unknown })[] = [{ value }];
  while (stack.length > 0 && out.length <= max) {
    const item = stack.pop() as { text: string } | { value: unknown };
    if ('text' in item) {
      out += item.text;
      continue;
    }
    const v = item.value;
    if (typeof v === 'number') out += String(v);
    else if (typeof v === 'string') out += JSON.stringify(v.length > max ? v.slice(0, max + 1) : v);
    else if (v === null || typeof v === 'boolean') out += String(v);
    else if (v === undefined) out += 'undefined';
    else if (Array.isArray(v)) {
      out += '[';
      stack.push({ text: ']' });
      // Only the first elements can fit; push them in reverse so they render in order.
      const n = Math.min(v.length, max);
      if (v.length > n) stack.push({ text: ', …' });
      for (let i = n - 1; i >= 0; i--) {
        stack.push({ value: v[i] });
        if (i > 0) stack.push({ text: ', ' });
      }
    } else if (typeof v === 'object') {
      out += '{';
      stack.push({ text: '}' });
      const keys: string[] = [];
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        if (keys.length === max) {
          stack.push({ text: ', …' });
          break;
        }
        keys.push(k);
      }
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ value: (v as Record<string, unknown>)[keys[i]] });
        stack.push({ text: `${JSON.stringify(clipText(keys[i], max))}: ` });
        if (i > 0) stack.push({ text: ', ' });
      }
    } else out += typeof v;
  }
  return clipText(out, max);
}

/** `"a", "b", "c" … and 7 more`: at most `max` names (each clipped), then a count of the rest. */
export function listNames(names: readonly string[], max = 3): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(clipText(n, 60))).join(', ');
  return names.length > max ? `${shown} … and ${names.length - max} more` : shown;
}

/** True when a parsed JSON value nests arrays/objects deeper than `maxDepth` (iterative). */
export function exceedsDepth(value: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** The message of anything thrown, clipped; never throws itself (a thrown value may be hostile). */
export function errorText(err: unknown, max = MAX_PROBLEM_LENGTH): string {
  try {
    if (err instanceof Error) return clipText(String(err.message), max);
    return describeValue(err, max);
  } catch {
    return 'unknown error';
  }
}
