// Building and updating the console's DOM without a framework. Text always goes in through textContent, never as
// HTML, because topic names, keys and payloads come from producers.

/** Creates an element: attrs are attributes, except `text` (its text) and `on*` functions (event listeners). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

/**
 * Brings a table body up to date with `items`, one row per key. Rows are kept across polls and only their changed
 * cells rewritten, so that a button keeps its focus (and a click in flight its target) while the data refreshes.
 * A column has `col` (its data-col), and either `text(item)` (rewritten on each call) or `build(item)` (made once,
 * with the row). `rowAttrs(item)` gives the row's attributes; `empty` is the text of the row shown when no items.
 */
export function syncTable(tbody, items, { key, columns, rowAttrs = () => ({}), empty }) {
  const existing = new Map();
  for (const row of tbody.querySelectorAll(":scope > tr[data-key]")) existing.set(row.dataset.key, row);
  tbody.querySelector(":scope > tr.empty")?.remove();
  let previous = null;
  for (const item of items) {
    const k = key(item);
    let row = existing.get(k);
    if (row) {
      existing.delete(k);
    } else {
      row = el("tr", { "data-key": k, ...rowAttrs(item) });
      for (const column of columns) row.append(el("td", { "data-col": column.col, class: column.class }, column.build?.(item)));
    }
    columns.forEach((column, i) => {
      if (!column.text) return;
      const value = column.text(item);
      if (row.cells[i].textContent !== value) row.cells[i].textContent = value;
    });
    // Moves a row only when it is out of place: moving a node takes the focus away from what is in it.
    const expected = previous ? previous.nextElementSibling : tbody.firstElementChild;
    if (expected !== row) tbody.insertBefore(row, expected);
    previous = row;
  }
  for (const row of existing.values()) row.remove();
  if (items.length === 0 && empty) tbody.append(el("tr", { class: "empty" }, el("td", { colspan: columns.length, text: empty })));
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export const format = {
  count: (n) => (n == null ? "—" : integer.format(n)),
  rate: (perSecond) => (perSecond == null ? "—" : decimal.format(perSecond)),
  percent: (p) => (p == null ? "—" : `${decimal.format(p)} %`),
  bytes(n) {
    if (n == null) return "—";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return i === 0 ? `${n} B` : `${decimal.format(n)} ${units[i]}`;
  },
  duration(ms) {
    if (ms == null) return "—";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${decimal.format(s)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} m ${Math.floor(s % 60)} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  },
  // Swedish locale writes local time as YYYY-MM-DD hh:mm:ss, which sorts and reads the same everywhere.
  time: (iso) => (iso ? new Date(iso).toLocaleString("sv-SE") : "—"),
  clock: (ms) => new Date(ms).toLocaleTimeString("sv-SE"),
};
