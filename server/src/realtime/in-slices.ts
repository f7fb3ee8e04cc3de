/** Work on many users after an outage in slices, not one unbounded burst. */
export async function inSlices<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

/** Users handled at once by a recovery step. */
export const RECOVERY_SLICE = 200;
