// A line chart of one series over time, as hand-written SVG: two axes with their labels and a polyline.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 360;
const HEIGHT = 160;
const MARGIN = { left: 52, right: 12, top: 12, bottom: 34 };

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text != null) node.textContent = text;
  return node;
}

// A round maximum for the y axis (1, 2 or 5 times a power of ten), so that its labels read easily.
function niceCeiling(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * Draws `points` ({t: epoch ms, v: number}, oldest first) into `chart` (an <svg>), replacing what it showed.
 * `yLabel` names the y axis; `formatTime` writes the x axis' times. The svg's data-latest carries the newest value.
 */
export function drawLineChart(chart, points, { yLabel, formatTime, formatValue = String }) {
  chart.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  chart.replaceChildren();
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x0 = MARGIN.left;
  const y0 = MARGIN.top + plotHeight;
  const max = niceCeiling(Math.max(0, ...points.map((p) => p.v)));
  const first = points.length ? points[0].t : 0;
  const last = points.length ? points[points.length - 1].t : 0;
  const span = Math.max(1, last - first);

  chart.append(svg("line", { class: "axis", x1: x0, y1: MARGIN.top, x2: x0, y2: y0 }));
  chart.append(svg("line", { class: "axis", x1: x0, y1: y0, x2: x0 + plotWidth, y2: y0 }));
  for (const fraction of [0, 0.5, 1]) {
    const y = y0 - fraction * plotHeight;
    if (fraction > 0) chart.append(svg("line", { class: "grid", x1: x0, y1: y, x2: x0 + plotWidth, y2: y }));
    chart.append(svg("text", { class: "tick", x: x0 - 6, y: y + 4, "text-anchor": "end" }, formatValue(max * fraction)));
  }
  chart.append(svg("text", { class: "axis-label", transform: `translate(12 ${MARGIN.top + plotHeight / 2}) rotate(-90)`, "text-anchor": "middle" }, yLabel));
  if (points.length) {
    chart.append(svg("text", { class: "tick", x: x0, y: y0 + 16, "text-anchor": "start" }, formatTime(first)));
    chart.append(svg("text", { class: "tick", x: x0 + plotWidth, y: y0 + 16, "text-anchor": "end" }, formatTime(last)));
  }
  chart.append(svg("text", { class: "axis-label", x: x0 + plotWidth / 2, y: HEIGHT - 4, "text-anchor": "middle" }, "time"));

  const coordinates = points.map((p) => {
    const x = x0 + ((p.t - first) / span) * plotWidth;
    const y = y0 - (p.v / max) * plotHeight;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  chart.append(svg("polyline", { class: "line", "data-testid": "lag-line", points: coordinates.join(" ") }));
  chart.dataset.latest = points.length ? String(points[points.length - 1].v) : "";
}
