import type uPlot from 'uplot';

export const PALETTE = ['#0b5cad', '#b35900', '#1a7f37', '#8250df', '#cf222e', '#0a7ea4', '#6e7781', '#bf3989'];

export const AXIS: uPlot.Axis = {
  stroke: '#3d4650',
  grid: { stroke: '#e6e9ee', width: 1 },
  ticks: { stroke: '#d0d7de', width: 1 },
  font: '11px system-ui, sans-serif',
};

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/** A y axis as wide as its longest label, so "1,013.25" is never cut off. */
export const Y_AXIS: uPlot.Axis = {
  ...AXIS,
  size: (self, values) => {
    const longest = Math.max(3, ...(values ?? []).map((value) => String(value).length));
    // In steps of 8 px, so a live chart does not twitch as its labels change.
    return Math.ceil((longest * 6.6 + 18) / 8) * 8;
  },
};
