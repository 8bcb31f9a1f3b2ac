/**
 * Puts process.env back as a snapshot found it, in place: Node's env object stays the one every
 * module holds (replacing it with a plain copy would leave later test files in the same worker
 * reading an object that no longer writes through to the process).
 */
export const restoreProcessEnv = (saved: Record<string, string | undefined>): void => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
};
