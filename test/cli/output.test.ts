import { describe, expect, it } from 'vitest';
import { colours, renderTable, tableWidth, truncate, visibleLength } from '../../src/cli/output';

const plain = colours(false);
const tty = colours(true);

describe('width-aware tables', () => {
  const rows = [
    ['churn-model:v3', 'Canary → RollingBack', `rolling back to v2: ${'gate failed '.repeat(20)}`],
    ['churn-model:v2', 'Succeeded', 'v2 serves all production traffic'],
  ];

  it('cuts the free-text columns with an ellipsis to fit, never the ids', () => {
    const table = renderTable(['DEPLOYMENT', 'TRANSITION', 'REASON'], rows, plain, {
      maxWidth: 70,
      shrink: ['REASON'],
    });
    const lines = table.split('\n');
    for (const line of lines) expect(visibleLength(line)).toBeLessThanOrEqual(70);
    expect(lines[1]).toMatch(/^churn-model:v3 {2}Canary → RollingBack {2}rolling back to v2: gate.*…$/);
    expect(lines[2]).toContain('v2 serves all production traffic');
  });

  it('gives the full text without a width', () => {
    const table = renderTable(['DEPLOYMENT', 'TRANSITION', 'REASON'], rows, plain);
    expect(table).not.toContain('…');
    expect(table).toContain('gate failed '.repeat(20).trimEnd());
  });

  it('drops colour from a cut cell and counts only visible characters', () => {
    expect(truncate(tty.red('abcdefghij'), 5)).toBe('abcd…');
    expect(truncate(tty.red('abc'), 5)).toBe(tty.red('abc'));
    expect(visibleLength(tty.red('abc'))).toBe(3);
  });

  it('fits the terminal, else COLUMNS, else nothing', () => {
    expect(tableWidth({ isTTY: true, columns: 120 }, {})).toBe(120);
    expect(tableWidth({ isTTY: false }, { COLUMNS: '90' })).toBe(90);
    expect(tableWidth({ isTTY: false }, { COLUMNS: 'wide' })).toBeUndefined();
    expect(tableWidth({ isTTY: false }, {})).toBeUndefined();
  });
});
