// Small SVG text helpers for the plot tests (vega's SVG is regular enough for regexes).

/** Text content of every <text> element (tspans joined with a newline). */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)].map((m) =>
    m[1].replace(/<tspan[^>]*>/g, '\n').replace(/<\/tspan>/g, '').replace(/^\n/, '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;|&apos;/g, "'"),
  );
}

/** The markup of the mark group whose class list contains `className` (up to its matching </g>). */
export function markGroup(svg: string, className: string): string {
  const start = svg.search(new RegExp(`<g class="[^"]*\\b${className}\\b[^"]*"`));
  if (start < 0) throw new Error(`no group with class ${className}`);
  let depth = 0;
  const tag = /<(\/?)g\b[^>]*?(\/?)>/g;
  tag.lastIndex = start;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    if (m[2]) continue;
    depth += m[1] ? -1 : 1;
    if (depth === 0) return svg.slice(start, m.index + m[0].length);
  }
  throw new Error(`unbalanced group ${className}`);
}

/** Number of direct mark items (path/text/line elements) with role="graphics-symbol" in `group`. */
export function countSymbols(group: string): number {
  return (group.match(/role="graphics-symbol"/g) ?? []).length;
}

/** Texts of the axis or legend titles. */
export function titles(svg: string, role: 'axis-title' | 'legend-title' | 'title-text'): string[] {
  return [...svg.matchAll(new RegExp(`<g class="mark-text role-${role}"[^>]*>([\\s\\S]*?)</g>`, 'g'))].flatMap((m) => svgTexts(m[1]));
}

/** Texts of the legend labels. */
export function legendLabels(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-text role-legend-label"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((m) => svgTexts(m[1]));
}
