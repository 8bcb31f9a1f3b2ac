import { ConfigError } from '../errors';
import { loadConfigFile } from './load';
import type { RolloutsConfig } from './schema';

export type ConfigCheckResult =
  | { ok: true; message: string; config: RolloutsConfig }
  | { ok: false; message: string; issues: string[] };

/** Validates a configuration file and describes the outcome in one message. */
export const configCheck = (path: string): ConfigCheckResult => {
  try {
    // request-set files are read and checked with the configuration
    const config = loadConfigFile(path);
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
