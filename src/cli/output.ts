/** Terminal output helpers: colour (only on a TTY without NO_COLOR), tables, durations. */

export interface Output {
  out(text: string): void;
  err(text: string): void;
  colour: Colour;
  json: boolean;
  isTty: boolean;
}

export type Paint = (text: string) => string;

export interface Colour {
  enabled: boolean;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
  dim: Paint;
  bold: Paint;
}

const ansi =
  (open: number, close: number): Paint =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;

const plain: Paint = (text) => text;

export const colours = (enabled: boolean): Colour =>
  enabled
    ? {
        enabled,
        red: ansi(31, 39),
        green: ansi(32, 39),
        yellow: ansi(33, 39),
        cyan: ansi(36, 39),
        dim: ansi(2, 22),
        bold: ansi(1, 22),
      }
    : { enabled, red: plain, green: plain, yellow: plain, cyan: plain, dim: plain, bold: plain };

/** Colour only for people: a terminal, NO_COLOR unset (https://no-color.org), no --no-color. */
export const wantsColour = (isTty: boolean, env: NodeJS.ProcessEnv, noColourFlag: boolean): boolean =>
  isTty && !noColourFlag && (env.NO_COLOR === undefined || env.NO_COLOR === '');

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point
const ANSI_PATTERN = /\u001b\[[0-9;]*m/g;

export const visibleLength = (text: string): number => [...text.replace(ANSI_PATTERN, '')].length;

const pad = (text: string, width: number): string =>
  text + ' '.repeat(Math.max(0, width - visibleLength(text)));

/** A left-aligned table; cells may hold colour codes. */
export const renderTable = (headers: string[], rows: string[][], colour: Colour): string => {
  const widths = headers.map((header, i) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[i] ?? ''))),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : pad(cell, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [colour.bold(line(headers)), ...rows.map(line)].join('\n');
};

/** 75000 -> "1m15s", 7_260_000 -> "2h01m". */
export const formatDuration = (ms: number): string => {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
};

export const formatTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `[███░░░] step 2/3`: `fraction` (0..1) of the way through, then the label. */
export const progressBar = (fraction: number, label: string, width = 10): string => {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${label}`;
};

export const formatPercent = (ratio: number | null | undefined, digits = 2): string =>
  ratio === null || ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(digits)}%`;

export const formatWeights = (weights: Record<string, number> | undefined): string => {
  if (!weights) return '-';
  const entries = Object.entries(weights);
  if (entries.length === 0) return '-';
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  return entries
    .map(([name, weight]) => `${name} ${total > 0 ? Math.round((weight / total) * 1000) / 10 : 0}%`)
    .join(' / ');
};
