import { ConfigError } from '../errors';
import { loadConfigFile } from './load';
import { OPEN_AUTHORIZATION, type RolloutsConfig } from './schema';

export type ConfigCheckResult =
  | { ok: true; message: string; config: RolloutsConfig; warnings: string[] }
  | { ok: false; message: string; issues: string[] };

/** What a valid configuration allows that it probably should not: groups open to every caller. */
export const configWarnings = (config: RolloutsConfig): string[] =>
  Object.entries(config.modelPackageGroups)
    .filter(([, group]) => group.authorization === OPEN_AUTHORIZATION)
    .map(
      ([name]) =>
        `WARNING: modelPackageGroups.${name}.authorization is open: every principal allowed to call the command URL may promote, abort and roll back its production rollouts; list who may send which command instead`,
    );

/** Validates a configuration file and describes the outcome in one message. */
export const configCheck = (path: string): ConfigCheckResult => {
  try {
    // request-set files are read and checked with the configuration
    const config = loadConfigFile(path);
    const groups = Object.keys(config.modelPackageGroups);
    return {
      ok: true,
      config,
      warnings: configWarnings(config),
      message: `OK: ${groups.length} model package group${groups.length === 1 ? '' : 's'} (${groups.join(', ')})`,
    };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, message: error.message, issues: error.issues };
    throw error;
  }
};
