/** A small grouped bar chart as SVG (no dependency): one panel per metric, bars per tab count and mode. */
export interface ChartPanel {
  title: string;
  /** e.g. "sockets"; printed on top of each bar with the value. */
  unit: string;
  /** Values by series name, one per x label. */
  series: Record<string, number[]>;
  /** An optional target line. */
  target?: { value: number; label: string };
}

const COLORS = ["#1a73e8", "#d93025", "#188038", "#f9ab00"];
const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** `xAxis` names what the x labels count (default: tabs). */
export function barChartSvg(title: string, xLabels: string[], panels: ChartPanel[], xAxis = "tabs"): string {
  const panelWidth = 340;
  const panelHeight = 260;
  const top = 70;
  const width = panelWidth * panels.length + 20;
  const height = panelHeight + top + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const seriesNames = Object.keys(panels[0]?.series ?? {});
  seriesNames.forEach((name, i) => {
    parts.push(`<rect x="${10 + i * 200}" y="32" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${26 + i * 200}" y="42">${escapeXml(name)}</text>`);
  });
  panels.forEach((panel, p) => {
    const x0 = 10 + p * panelWidth + 40;
    const plotWidth = panelWidth - 60;
    const plotHeight = panelHeight - 50;
    const y0 = top + 20 + plotHeight;
    const all = Object.values(panel.series)
      .flat()
      .concat(panel.target ? [panel.target.value] : []);
    const max = Math.max(1, ...all.filter(Number.isFinite)) * 1.15;
    const scale = (v: number) => (Number.isFinite(v) ? (v / max) * plotHeight : 0);
    parts.push(`<text x="${x0}" y="${top + 10}" font-weight="bold">${escapeXml(panel.title)}</text>`);
    parts.push(`<line x1="${x0}" y1="${y0}" x2="${x0 + plotWidth}" y2="${y0}" stroke="#444"/>`);
    const groupWidth = plotWidth / xLabels.length;
    const barWidth = (groupWidth - 10) / Math.max(1, seriesNames.length);
    xLabels.forEach((label, g) => {
      const gx = x0 + g * groupWidth + 5;
      parts.push(`<text x="${gx + (groupWidth - 10) / 2}" y="${y0 + 14}" text-anchor="middle">${escapeXml(label)}</text>`);
      seriesNames.forEach((name, s) => {
        const value = panel.series[name]?.[g] ?? NaN;
        const h = scale(value);
        const bx = gx + s * barWidth;
        parts.push(`<rect x="${bx}" y="${y0 - h}" width="${barWidth - 2}" height="${h}" fill="${COLORS[s % COLORS.length]}"/>`);
        const text = Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value.toFixed(value % 1 ? 1 : 0)) : "n/a";
        parts.push(`<text x="${bx + barWidth / 2 - 1}" y="${y0 - h - 3}" text-anchor="middle" font-size="9">${text}</text>`);
      });
    });
    parts.push(`<text x="${x0 + plotWidth / 2}" y="${y0 + 28}" text-anchor="middle" fill="#666">${escapeXml(xAxis)} (${escapeXml(panel.unit)})</text>`);
    if (panel.target) {
      const ty = y0 - scale(panel.target.value);
      parts.push(`<line x1="${x0}" y1="${ty}" x2="${x0 + plotWidth}" y2="${ty}" stroke="#188038" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${x0 + plotWidth}" y="${ty - 3}" text-anchor="end" fill="#188038" font-size="9">${escapeXml(panel.target.label)}</text>`);
    }
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
