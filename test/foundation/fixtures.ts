import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..');

/** Parsed JSON that tests mutate freely to derive negative cases. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are untyped JSON by design
export type Json = any;

/** A fresh copy of a sample event from events/, to derive cases from. */
export const fixture = <T = Record<string, Json>>(name: string): T =>
  JSON.parse(readFileSync(join(repoRoot, 'events', `${name}.json`), 'utf8')) as T;
