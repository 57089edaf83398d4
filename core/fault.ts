/**
 * Fault injection for crash tests: `faultPoint(name)` kills this process with SIGKILL when the
 * environment variable BITSTABLE_FAULT names that point. A no-op otherwise. Real child processes
 * in tests use it to die at exactly the moment under test (e.g. after storing a signed
 * transaction and before broadcasting it).
 */
export function faultPoint(name: string): void {
  if (process.env.BITSTABLE_FAULT === name) process.kill(process.pid, 'SIGKILL');
}
