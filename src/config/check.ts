import { ConfigError } from '../errors';
import { loadConfigFile } from './load';
import { requestSetFileIssues } from './request-set-files';
import type { RolloutsConfig } from './schema';

export type ConfigCheckResult =
  | { ok: true; message: string; config: RolloutsConfig }
  | { ok: false; message: string; issues: string[] };

/** Validates a configuration file and describes the outcome in one message. */
export const configCheck = (path: string): ConfigCheckResult => {
  try {
    const config = loadConfigFile(path);
    const fileIssues = requestSetFileIssues(config, path);
    if (fileIssues.length > 0) {
      return {
        ok: false,
        message: `Invalid configuration ${path}:\n${fileIssues.map((issue) => `  - ${issue}`).join('\n')}`,
        issues: fileIssues,
      };
    }
    const groups = Object.keys(config.modelPackageGroups);
    return {
      ok: true,
      config,
      message: `OK: ${groups.length} model package group${groups.length === 1 ? '' : 's'} (${groups.join(', ')})`,
    };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, message: error.message, issues: error.issues };
    throw error;
  }
};
