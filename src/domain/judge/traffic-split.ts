/** Share of traffic (0..1) each variant gets; weights are relative. */
export const trafficShares = (weights: Record<string, number>): Record<string, number> => {
  const total = Object.values(weights).reduce((sum, w) => sum + w, 0);
  const shares: Record<string, number> = {};
  for (const [name, weight] of Object.entries(weights)) shares[name] = total > 0 ? weight / total : 0;
  return shares;
};

/** True when two weight maps send the same share of traffic to the same variants (within 1 %). */
export const sameTrafficSplit = (a: Record<string, number>, b: Record<string, number>): boolean => {
  const sa = trafficShares(a);
  const sb = trafficShares(b);
  const names = new Set([...Object.keys(sa), ...Object.keys(sb)]);
  for (const name of names) {
    if (Math.abs((sa[name] ?? 0) - (sb[name] ?? 0)) > 0.01) return false;
  }
  return true;
};
