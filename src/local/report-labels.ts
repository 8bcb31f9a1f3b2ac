/**
 * Places text labels in rows above a chart so that none overlaps another or leaves the plot: each
 * label starts at its event's x when it fits, else is shifted left to end inside the plot, and
 * takes the first row whose last label ends before it. Widths are estimated from the character
 * count; CHAR_WIDTH is wider than any proportional font's average so the estimate errs long.
 */
const CHAR_WIDTH = 0.62;
const GAP = 6;

export interface LabelRequest {
  /** where the labelled event is */
  x: number;
  text: string;
}

export interface Placement {
  /** where the text starts */
  textX: number;
  row: number;
  width: number;
}

export const labelWidth = (text: string, fontSize: number): number =>
  Math.ceil(text.length * fontSize * CHAR_WIDTH);

export function placeLabels<T extends LabelRequest>(
  requests: T[],
  area: { left: number; right: number; fontSize: number },
): { labels: Array<T & Placement>; rows: number } {
  const rowEnds: number[] = [];
  const labels = [...requests]
    .sort((a, b) => a.x - b.x)
    .map((request) => {
      const width = labelWidth(request.text, area.fontSize);
      const textX = Math.max(area.left, Math.min(request.x, area.right - width));
      let row = rowEnds.findIndex((end) => end + GAP <= textX);
      if (row < 0) {
        row = rowEnds.length;
        rowEnds.push(0);
      }
      rowEnds[row] = textX + width;
      return { ...request, textX, row, width };
    });
  return { labels, rows: rowEnds.length };
}
