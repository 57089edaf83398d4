/**
 * The integration suite's second run, on PostgreSQL (project `integration-pg`): one private
 * cluster for the whole run, started before the first file and stopped after the last; each
 * node a test starts gets a database of its own on it (test/helpers/app.ts).
 */
import type { TestProject } from 'vitest/node';
import { startLocalPostgres } from '../../core/db/pg/local-cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startLocalPostgres();
  project.provide('postgresUrl', cluster.url);
  return () => cluster.stop();
}
