import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..');

/** Parsed JSON that tests mutate freely to derive negative cases. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are untyped JSON by design
export type Json = any;

/** A fresh copy of a sample event from events/, to derive cases from. */
export const fixture = <T = Record<string, Json>>(name: string): T =>
  JSON.parse(readFileSync(join(repoRoot, 'events', `${name}.json`), 'utf8')) as T;

/** serverless/config-vars.cjs's derivation of the roles, the dashboard and the operator policy from a configuration. */
export const { derive: deriveStackVars } = createRequire(join(repoRoot, 'serverless.yml'))(
  './serverless/config-vars.cjs',
) as {
  derive: (
    config: unknown,
    stage: string,
    configPath: string,
  ) => {
    policies: Record<string, { PolicyDocument: { Statement: Json[] } }[]>;
    dashboardBody: { 'Fn::Sub': string };
    operatorEndpointArns: Json[];
  };
};
