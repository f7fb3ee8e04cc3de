import cliProgress from "cli-progress";

/** A progress bar on stderr when it is a terminal; nothing otherwise (logs and CI stay clean). */
export function createProgress(stream: NodeJS.WriteStream, enabled: boolean) {
  if (!enabled || !stream.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: "{bar} {value} keys of ~{total} in Redis | {rate} keys/s | {duration_formatted}",
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  return {
    start: (total: number) => bar.start(Math.max(total, 1), 0, { rate: 0 }),
    update: (done: number) => {
      const seconds = (performance.now() - started) / 1000;
      bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0 });
    },
    stop: () => bar.stop(),
  };
}
