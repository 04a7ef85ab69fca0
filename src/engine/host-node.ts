// A SessionHost over the repository's public/ folder and an in-memory store: the command line and
// the engine tests run the same code paths the worker runs, without a browser.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PUBLIC_DIR } from './data/digits-node';
import type { KeyValueStore, SessionHost } from './session';

/** Any base works: fileFetch maps its paths onto public/. */
export const TEST_BASE_URL = 'http://studio.test/';

export function fileFetch(root = PUBLIC_DIR): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    try {
      const body = await readFile(path.join(root, decodeURIComponent(url.pathname)));
      return new Response(new Uint8Array(body), { status: 200 });
    } catch {
      return new Response('not found', { status: 404 });
    }
  }) as typeof fetch;
}

export function memoryStore(): KeyValueStore & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    get: async <T,>(key: string) => map.get(key) as T | undefined,
    set: async (key, value) => void map.set(key, structuredClone(value)),
    del: async (key) => void map.delete(key),
    keys: async () => [...map.keys()],
  };
}

export function nodeHost(): SessionHost & { storage: ReturnType<typeof memoryStore> } {
  return { baseUrl: TEST_BASE_URL, fetch: fileFetch(), storage: memoryStore() };
}

