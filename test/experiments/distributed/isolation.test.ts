// The core library never loads the queue engine: nothing that `import 'tensorkit'` reaches (static
// imports from src/index.ts, followed through every file) imports bullmq, ioredis, the distributed
// sweep modules, or the CLI commands that load them (sweep, agent, main).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = new URL('../../../src', import.meta.url).pathname;

/** Static import / export-from specifiers of a TypeScript file (type-only imports included: they are erased, but harmless to follow). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) out.push(m[1]);
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1]);
  return out;
}

describe('the core library and the queue engine', () => {
  it('src/index.ts reaches no bullmq, ioredis, distributed-sweep module or the sweep/agent commands', () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const stack = [join(src, 'index.ts')];
    while (stack.length > 0) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of specifiers(file)) {
        if (!spec.startsWith('.')) {
          bare.add(spec);
          continue;
        }
        const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        if (existsSync(target)) stack.push(target);
      }
    }
    const reached = [...seen].map((f) => relative(src, f));
    expect(reached.length).toBeGreaterThan(20);
    // The root entry reaches the core only: no experiments module at all, let alone the distributed ones.
    expect(reached.filter((f) => f.startsWith('experiments/') || f.startsWith('cli/'))).toEqual([]);
    expect(reached.filter((f) => f.startsWith('experiments/distributed/') || ['cli/sweep.ts', 'cli/agent.ts', 'cli/main.ts'].includes(f))).toEqual([]);
    expect([...bare].filter((b) => !b.startsWith('node:'))).toEqual([]);
  });
});
