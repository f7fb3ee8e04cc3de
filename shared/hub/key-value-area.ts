/**
 * Where a hub keeps what must survive its home's restart: `storage.session`/`storage.local` in
 * the extension, IndexedDB in the elected web-app tab, a Map in Node tests (injected).
 */
export interface KeyValueArea {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  remove(key: string): Promise<void>;
}

/** An in-memory area for tests. */
export function memoryArea(initial: Record<string, unknown> = {}): KeyValueArea & { data: Map<string, unknown> } {
  const data = new Map(Object.entries(initial));
  return {
    data,
    async get(key) {
      return structuredClone(data.get(key));
    },
    async set(key, value) {
      data.set(key, structuredClone(value));
    },
    async remove(key) {
      data.delete(key);
    },
  };
}
