// The UI thread never loads tfjs: everything the app imports at run time (following relative imports
// transitively, skipping type-only imports, which vanish at build) must stay clear of @tensorflow.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const APP = path.resolve(__dirname);
const IMPORT = /^\s*(import|export)\s+(?!type\b)([^'"]*?\bfrom\s+)?['"]([^'"]+)['"]/gm;

function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const clause = m[2] ?? '';
    // `import { type A, type B } from` is type-only too.
    if (/^\{\s*(type\s+\w+\s*,?\s*)+\}\s*from\s+$/.test(clause.trim() + ' ')) continue;
    out.push(m[3]);
  }
  return out;
}

function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec.replace(/\?.*$/, ''));
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* try the next */
    }
  }
  return null;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : /\.tsx?$/.test(name) && !name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('UI import boundary', () => {
  it('no module reachable from src/app imports tfjs', () => {
    const offenders: string[] = [];
    const seen = new Set<string>();
    const queue = walk(APP);
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of runtimeImports(file)) {
        if (spec.startsWith('@tensorflow/')) offenders.push(`${path.relative(APP, file)} imports ${spec}`);
        const next = resolve(file, spec);
        if (next) queue.push(next);
      }
    }
    expect(seen.size).toBeGreaterThan(10);
    expect(offenders).toEqual([]);
  });

  it('would catch a runtime import of an engine module', () => {
    expect(runtimeImports(path.join(APP, 'state/store.ts'))).not.toContain('../../engine/session');
    expect(runtimeImports(path.join(APP, '../engine/session.ts'))).toContain('@tensorflow/tfjs');
  });
});
