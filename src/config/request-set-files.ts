import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseRequestSet, RequestSetError } from '../domain/request-set';
import type { RolloutsConfig } from './schema';

/**
 * Checks every `preTraffic.requestSetFile` of a configuration: it must exist next to the
 * configuration file (the path is relative to it) and hold a valid request set. Returns one
 * `path: reason` line per problem.
 */
export function requestSetFileIssues(config: RolloutsConfig, configPath: string): string[] {
  const issues: string[] = [];
  for (const [group, groupConfig] of Object.entries(config.modelPackageGroups)) {
    const file = groupConfig.stages.prod.preTraffic?.requestSetFile;
    if (!file) continue;
    const where = `modelPackageGroups.${group}.stages.prod.preTraffic.requestSetFile`;
    const absolute = resolve(dirname(configPath), file);
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      issues.push(`${where}: cannot read ${file} (${code === 'ENOENT' ? 'file not found' : String(error)})`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      issues.push(`${where}: ${file} is not JSON (${(error as Error).message})`);
      continue;
    }
    try {
      parseRequestSet(value, file);
    } catch (error) {
      if (!(error instanceof RequestSetError)) throw error;
      issues.push(...error.issues.map((issue) => `${where}: ${file}: ${issue}`));
    }
  }
  return issues;
}
