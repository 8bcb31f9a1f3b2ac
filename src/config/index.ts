export { type ConfigCheckResult, configCheck } from './check';
export {
  CONFIG_PATH_ENV,
  clearConfigCache,
  configPathFromEnv,
  DEFAULT_CONFIG_PATH,
  loadConfigFile,
  loadConfigFromEnv,
  parseConfig,
} from './load';
export * from './schema';
