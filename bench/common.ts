import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(new URL('..', import.meta.url).pathname);
/** Scratch space for bundles and generated configurations; run.ts removes it. */
export const WORK_DIR = mkdtempSync(join(tmpdir(), 'sagemaker-rollouts-bench-'));

export const HANDLERS = [
  'model-package-state-change',
  'endpoint-state-change',
  'pipeline-callback',
  'canary-tick',
  'control',
  'executor',
] as const;

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

export const sleep = (millis: number) => new Promise<void>((done) => setTimeout(done, millis));

export const scheduleEvent = (at: number) => ({
  version: '0',
  id: `bench-tick-${at}`,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '111122223333',
  time: new Date(at).toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:111122223333:rule/sagemaker-rollouts-local-canaryTick'],
  detail: {},
});
