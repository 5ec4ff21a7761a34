/**
 * A backstop for one test file's process: node:test gives hooks no timeout, so a cleanup that never
 * finishes (or a handle left open by a failed test) would keep the file, and CI, waiting forever.
 * The timer is unref'd: it never keeps a finished file alive, it only ends one that is stuck.
 * Only under node:test (one process per file); a Playwright worker runs many files and has its own
 * timeouts.
 */
const FILE_BUDGET_MS = Number(process.env.TEST_FILE_BUDGET_MS ?? 10 * 60_000);

if (process.env.NODE_TEST_CONTEXT) {
  const timer = setTimeout(() => {
    console.error(`watchdog: ${process.argv[1] ?? 'test file'} still running after ${FILE_BUDGET_MS / 1000} s: ending it`);
    process.exit(1);
  }, FILE_BUDGET_MS);
  timer.unref();
}
