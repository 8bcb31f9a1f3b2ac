/** Terminal output helpers: colour (only on a TTY without NO_COLOR), tables, durations. */

export interface Output {
  out(text: string): void;
  err(text: string): void;
  colour: Colour;
  json: boolean;
  isTty: boolean;
  /** tables fit this many columns; undefined: full width */
  width?: number | undefined;
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

const MIN_COLUMN = 6;

/** Cuts `text` to `width` visible characters, ending in an ellipsis; colour is dropped from a cut cell. */
export const truncate = (text: string, width: number): string => {
  if (visibleLength(text) <= width) return text;
  const chars = [...text.replace(ANSI_PATTERN, '')];
  return width <= 1 ? '…'.slice(0, width) : `${chars.slice(0, width - 1).join('')}…`;
};

/**
 * Column widths that fit `maxWidth` (gaps included): the widest column gives up a character at a
 * time, never below its header or MIN_COLUMN, so narrow columns (ids, phases) stay whole.
 */
const fitWidths = (natural: number[], floors: number[], maxWidth: number, gap: number): number[] => {
  const widths = [...natural];
  const total = () => widths.reduce((sum, w) => sum + w, 0) + gap * (widths.length - 1);
  while (total() > maxWidth) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if ((widths[i] ?? 0) > (floors[i] ?? 0) && (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0))) {
        widest = i;
      }
    }
    if (widest < 0) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  return widths;
};

/**
 * A left-aligned table; cells may hold colour codes. With `maxWidth` (the terminal's columns) the
 * `shrink` columns give up width and their long cells end in an ellipsis; `--json` and
 * `history --wide` give the full text.
 */
export const renderTable = (
  headers: string[],
  rows: string[][],
  colour: Colour,
  fit: { maxWidth?: number | undefined; shrink?: string[] } = {},
): string => {
  const gap = 2;
  const { maxWidth, shrink = headers } = fit;
  const natural = headers.map((header, i) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[i] ?? ''))),
  );
  // columns not named in `shrink` (ids, phases) are never cut
  const floors = headers.map((header, i) =>
    shrink.includes(header)
      ? Math.min(natural[i] ?? 0, Math.max(MIN_COLUMN, visibleLength(header)))
      : (natural[i] ?? 0),
  );
  const widths = maxWidth === undefined ? natural : fitWidths(natural, floors, maxWidth, gap);
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => {
        const fitted = truncate(cell, widths[i] ?? 0);
        return i === cells.length - 1 ? fitted : pad(fitted, widths[i] ?? 0);
      })
      .join(' '.repeat(gap))
      .trimEnd();
  return [colour.bold(line(headers)), ...rows.map(line)].join('\n');
};

/** The width tables must fit: the terminal's, else COLUMNS; none (full text) when piped without it. */
export const tableWidth = (
  stdout: { isTTY?: boolean | undefined; columns?: number | undefined },
  env: NodeJS.ProcessEnv,
): number | undefined => {
  if (stdout.isTTY && stdout.columns && stdout.columns > 0) return stdout.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : undefined;
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
