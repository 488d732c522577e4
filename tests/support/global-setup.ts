import type { TestProject } from 'vitest/node';
import { provisionInfrastructure } from './infrastructure.js';

declare module 'vitest' {
  export interface ProvidedContext {
    infra: { mode: 'local' | 'containers'; adminDatabaseUrl: string; natsUrl: string; redisUrl: string };
  }
}

export default async function setup(project: TestProject) {
  const infra = await provisionInfrastructure();
  project.provide('infra', infra.urls);
  return () => infra.stop();
}
