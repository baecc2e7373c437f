// The console's shell: sections as tabs, polling the admin API, the error banner, the API-key prompt and who is
// signed in, and the overview, topics, groups and cluster sections. Dead letters live in deadletters.js. What the
// signed-in principal may not do (from /api/v1/whoami) is not offered.

import { api, storedKey, storeKey } from "./api.js";
import { drawLineChart } from "./charts.js";
import { DeadLetters } from "./deadletters.js";
import { el, format, syncTable } from "./dom.js";

const SECTIONS = ["overview", "topics", "groups", "dead-letters", "cluster"];
// ?interval=ms lets tests poll faster than people need; below 100 ms the silo would mostly answer the console.
const INTERVAL_MS = Math.max(100, Number.parseInt(new URLSearchParams(location.search).get("interval") ?? "", 10) || 2000);
// Publish rates are averaged over this much of the polls' history, so that one late poll does not make them jump.
const RATE_WINDOW_MS = Math.max(10_000, 5 * INTERVAL_MS);
const LAG_HISTORY_MS = 10 * 60_000;

const state = {
  section: "overview",
  topics: [],
  groups: [],
  cluster: null,
  /** The answer of /api/v1/whoami: who is signed in and what it may do; null until the first poll. */
  me: null,
  selectedTopic: null,
  /** topic → [{t, sum}] of endOffsetSum samples within RATE_WINDOW_MS */
  offsetSamples: new Map(),
  /** "topic/group" → [{t, v}] of total lag */
  lagHistory: new Map(),
  timer: 0,
};

const $ = (id) => document.getElementById(id);
const banner = $("error-banner");
const keyForm = $("key-form");
const deadLetters = new DeadLetters(showError);

// ---- sections ----

function showSection(name) {
  state.section = SECTIONS.includes(name) ? name : "overview";
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.section === state.section;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.dataset.section).hidden = !selected;
  }
  if (state.section === "dead-letters") deadLetters.refresh().catch(showError);
}

for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener("click", () => {
    history.replaceState(null, "", `#${tab.dataset.section}`);
    showSection(tab.dataset.section);
  });
  // Arrow keys move between tabs, as the WAI-ARIA tabs pattern has it.
  tab.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const tabs = [...document.querySelectorAll('[role="tab"]')];
    const next = tabs[(tabs.indexOf(tab) + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    next.click();
  });
}
window.addEventListener("hashchange", () => showSection(location.hash.slice(1)));

// ---- errors and the API key ----

function showError(error) {
  if (error?.needsKey) {
    askForKey();
    return;
  }
  setBanner(`The admin API failed: ${error.message}`);
}

// Rewrites the alert only when its text changes: a screen reader would announce it again on every poll.
function setBanner(text) {
  if (banner.textContent !== text) banner.textContent = text;
  banner.hidden = false;
}

function clearError() {
  banner.hidden = true;
  banner.textContent = "";
}

function askForKey() {
  const hadKey = Boolean(storedKey());
  $("key-prompt").textContent = hadKey
    ? "The silo refused the admin API key this browser has; enter the right one."
    : "This silo's admin API needs a key; enter it to see its data.";
  setBanner(hadKey ? "The admin API key was refused (401)." : "The admin API needs a key (401).");
  if (keyForm.hidden) {
    keyForm.hidden = false;
    $("api-key").focus();
  }
}

const KIND_TEXT = { ApiKey: "API key", Certificate: "client certificate", Jwt: "token", Bootstrap: "bootstrap key", Anonymous: "no credential" };

function renderSignedIn() {
  const me = state.me;
  $("signed-in").textContent = !me
    ? ""
    : me.securityEnabled
      ? `Signed in as ${me.principal} (${KIND_TEXT[me.kind] ?? me.kind})${me.superuser ? " · superuser" : ""}`
      : "Security is off: anyone may do anything";
  $("sign-out").hidden = !(me?.securityEnabled && storedKey());
}

$("sign-out").addEventListener("click", () => {
  storeKey("");
  state.me = null;
  state.topics = [];
  state.groups = [];
  state.cluster = null;
  render();
  renderSignedIn();
  pollNow();
});

keyForm.addEventListener("submit", (e) => {
  e.preventDefault();
  storeKey($("api-key").value.trim());
  $("api-key").value = "";
  keyForm.hidden = true;
  clearError();
  pollNow();
});

// ---- polling ----

let polling = false;
let pollAgain = false;

/** Polls at once (after a key was given); a poll in flight is followed at once by another instead. */
function pollNow() {
  clearTimeout(state.timer);
  if (polling) pollAgain = true;
  else poll();
}

async function poll() {
  polling = true;
  try {
    const now = Date.now();
    try {
      state.me = await api.whoami();
    } catch (e) {
      // Without a principal nothing else can be read: ask for a key (401), or say what failed.
      state.me = null;
      renderSignedIn();
      showError(e);
      return;
    }
    renderSignedIn();
    const mayDescribeCluster = state.me.canDescribeCluster;
    const [topics, groups, cluster] = await Promise.allSettled([
      api.topics(),
      api.groups(),
      mayDescribeCluster ? api.cluster() : Promise.resolve(null),
    ]);
    const failures = [topics, groups, cluster].filter((r) => r.status === "rejected").map((r) => r.reason);
    if (topics.status === "fulfilled") {
      state.topics = topics.value;
      sampleOffsets(now);
    }
    if (groups.status === "fulfilled") {
      state.groups = groups.value;
      sampleLag(now);
    }
    if (cluster.status === "fulfilled") state.cluster = cluster.value;
    if (state.section === "dead-letters") {
      try {
        await deadLetters.refresh();
      } catch (e) {
        failures.push(e);
      }
    }
    render();
    if (failures.length) {
      // A missing key explains every other failure; ask for it rather than listing three 401s.
      showError(failures.find((f) => f.needsKey) ?? failures[0]);
    } else {
      clearError();
      keyForm.hidden = true;
      $("last-update").textContent = `Updated ${format.clock(now)}`;
    }
  } finally {
    // Scheduled whatever happened above: one bad answer must not stop the console for good.
    polling = false;
    state.timer = setTimeout(poll, pollAgain ? 0 : INTERVAL_MS);
    pollAgain = false;
  }
}

function sampleOffsets(now) {
  const seen = new Set();
  for (const topic of state.topics) {
    seen.add(topic.name);
    let samples = state.offsetSamples.get(topic.name) ?? [];
    // A smaller sum means the topic was deleted and created again: its old samples say nothing about the new one.
    if (samples.length && topic.endOffsetSum < samples[samples.length - 1].sum) samples = [];
    samples.push({ t: now, sum: topic.endOffsetSum });
    while (samples.length > 2 && now - samples[1].t >= RATE_WINDOW_MS) samples.shift();
    state.offsetSamples.set(topic.name, samples);
  }
  for (const name of state.offsetSamples.keys()) if (!seen.has(name)) state.offsetSamples.delete(name);
}

/** Messages per second published to a topic over the rate window; null until two polls saw it. */
function publishRate(name) {
  const samples = state.offsetSamples.get(name);
  if (!samples || samples.length < 2) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  return last.t > first.t ? ((last.sum - first.sum) * 1000) / (last.t - first.t) : null;
}

const groupKey = (g) => `${g.topic}/${g.group}`;

function sampleLag(now) {
  const seen = new Set();
  for (const group of state.groups) {
    const key = groupKey(group);
    seen.add(key);
    const history = state.lagHistory.get(key) ?? [];
    history.push({ t: now, v: group.lag.total });
    while (history.length > 2 && now - history[0].t > LAG_HISTORY_MS) history.shift();
    state.lagHistory.set(key, history);
  }
  for (const key of state.lagHistory.keys()) if (!seen.has(key)) state.lagHistory.delete(key);
}

// ---- rendering ----

function render() {
  renderSummary();
  renderOverview();
  renderTopics();
  renderTopicDetail();
  renderGroups();
  renderCluster();
  deadLetters.setGroups(state.groups);
}

function renderSummary() {
  const silos = state.cluster?.silos ?? [];
  $("cluster-summary").textContent = state.cluster
    ? `${silos.length} ${silos.length === 1 ? "silo" : "silos"} · ${state.topics.length} topics · ${state.groups.length} groups`
    : "";
}

function renderOverview() {
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const rates = state.topics.map((t) => publishRate(t.name)).filter((r) => r != null);
  $("stat-topics").textContent = format.count(state.topics.length);
  $("stat-partitions").textContent = format.count(sum(state.topics.map((t) => t.partitions.length)));
  $("stat-messages").textContent = format.count(sum(state.topics.map((t) => t.messages)));
  $("stat-rate").textContent = rates.length ? format.rate(sum(rates)) : "—";
  $("stat-groups").textContent = format.count(state.groups.length);
  $("stat-lag").textContent = format.count(sum(state.groups.map((g) => g.lag.total)));
  $("stat-in-flight").textContent = format.count(sum(state.groups.map((g) => g.lag.inFlight)));
  const silos = state.cluster?.silos ?? [];
  $("stat-silos").textContent = state.cluster ? `${silos.filter((s) => s.status === "Active").length} / ${silos.length}` : "—";
}

function selectTopic(name) {
  state.selectedTopic = state.selectedTopic === name ? null : name;
  renderTopics();
  renderTopicDetail();
  if (state.selectedTopic) $("topic-detail").scrollIntoView({ block: "nearest" });
}

function renderTopics() {
  const tbody = document.querySelector("#topics-table tbody");
  syncTable(tbody, state.topics, {
    key: (t) => t.name,
    rowAttrs: (t) => ({ "data-testid": "topic-row", "data-topic": t.name }),
    empty: "No topics yet.",
    columns: [
      {
        col: "name",
        build: (t) => el("button", { type: "button", class: "link", "data-testid": "topic-link", text: t.name, onclick: () => selectTopic(t.name) }),
      },
      { col: "partitions", class: "num", text: (t) => format.count(t.partitions.length) },
      { col: "messages", class: "num", text: (t) => format.count(t.messages) },
      { col: "size", class: "num", text: (t) => format.bytes(t.sizeBytes) },
      { col: "rate", class: "num", text: (t) => format.rate(publishRate(t.name)) },
      { col: "replicas", class: "num", text: (t) => format.count(t.settings.replicationFactor ?? 1) },
      { col: "groups", text: (t) => (t.groups.length ? t.groups.join(", ") : "—") },
    ],
  });
  for (const row of tbody.rows) {
    const selected = row.dataset.topic === state.selectedTopic;
    row.classList.toggle("selected", selected);
    row.querySelector("button")?.setAttribute("aria-expanded", String(selected));
  }
}

$("topic-detail-close").addEventListener("click", () => selectTopic(null));

function siloName(address) {
  const silo = state.cluster?.silos.find((s) => s.address === address);
  return silo ? `${silo.name} (${address})` : address;
}

function renderTopicDetail() {
  const topic = state.topics.find((t) => t.name === state.selectedTopic);
  $("topic-detail").hidden = !topic;
  if (!topic) return;
  $("topic-detail-title").textContent = `Partitions of ${topic.name}`;
  syncTable(document.querySelector("#partitions-table tbody"), topic.partitions, {
    key: (p) => `${topic.name}/${p.partition}`,
    rowAttrs: (p) => ({ "data-testid": "partition-row", "data-partition": p.partition }),
    columns: [
      { col: "partition", class: "num", text: (p) => String(p.partition) },
      { col: "startOffset", class: "num", text: (p) => format.count(p.startOffset) },
      { col: "endOffset", class: "num", text: (p) => format.count(p.endOffset) },
      { col: "messages", class: "num", text: (p) => format.count(p.endOffset - p.startOffset) },
      { col: "size", class: "num", text: (p) => format.bytes(p.sizeBytes) },
      { col: "leader", text: (p) => (p.leader ? siloName(p.leader) : "none") },
      { col: "inSyncReplicas", text: (p) => (p.inSyncReplicas?.length ? p.inSyncReplicas.join(", ") : "— (not replicated)") },
    ],
  });
}

function renderGroups() {
  syncTable(document.querySelector("#groups-table tbody"), state.groups, {
    key: groupKey,
    rowAttrs: (g) => ({ "data-testid": "group-row", "data-topic": g.topic, "data-group": g.group }),
    empty: "No consumer groups yet: a group appears once a consumer joins it.",
    columns: [
      { col: "topic", text: (g) => g.topic },
      { col: "group", text: (g) => g.group },
      { col: "mode", text: (g) => g.mode },
      { col: "members", class: "num", text: (g) => format.count(g.members.length) },
      { col: "lag", class: "num", text: (g) => format.count(g.lag.total) },
      { col: "inFlight", class: "num", text: (g) => format.count(g.lag.inFlight) },
      { col: "oldestUnacked", class: "num", text: (g) => (g.lag.oldestUnackedAgeMs > 0 ? format.duration(g.lag.oldestUnackedAgeMs) : "—") },
      { col: "deadLetterTopic", text: (g) => g.deadLetterTopic },
    ],
  });
  renderLagCharts();
}

function renderLagCharts() {
  const container = $("lag-charts");
  const figures = new Map([...container.children].map((f) => [f.dataset.key, f]));
  for (const group of state.groups) {
    const key = groupKey(group);
    let figure = figures.get(key);
    figures.delete(key);
    if (!figure) {
      const caption = el("figcaption", { text: `${group.group} on ${group.topic}` });
      const chart = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      chart.setAttribute("role", "img");
      chart.setAttribute("aria-label", `Total lag of group ${group.group} on topic ${group.topic} over time`);
      chart.setAttribute("data-testid", "lag-chart");
      chart.setAttribute("data-group", key);
      figure = el("figure", { "data-key": key }, caption, chart);
      container.append(figure);
    }
    drawLineChart(figure.querySelector("svg"), state.lagHistory.get(key) ?? [], {
      yLabel: "lag (messages)",
      formatTime: format.clock,
      formatValue: (v) => format.count(v),
    });
  }
  for (const stale of figures.values()) stale.remove();
  if (!state.groups.length) container.replaceChildren(el("p", { class: "hint", text: "No groups to chart." }));
  else container.querySelector(":scope > p")?.remove();
}

function renderCluster() {
  const notAllowed = state.me?.canDescribeCluster === false;
  $("cluster-not-allowed").hidden = !notAllowed;
  $("silos-table").hidden = notAllowed;
  syncTable(document.querySelector("#silos-table tbody"), state.cluster?.silos ?? [], {
    key: (s) => s.address,
    rowAttrs: (s) => ({ "data-testid": "silo-row", "data-address": s.address }),
    empty: state.cluster ? "No live silos." : "Loading…",
    columns: [
      { col: "name", text: (s) => s.name },
      { col: "address", text: (s) => s.address },
      { col: "host", text: (s) => s.host },
      { col: "status", text: (s) => s.status },
      { col: "startedAt", text: (s) => format.time(s.startedAt) },
      { col: "gatewayPort", class: "num", text: (s) => String(s.gatewayPort) },
      { col: "activations", class: "num", text: (s) => format.count(s.activations) },
      { col: "clients", class: "num", text: (s) => format.count(s.clients) },
      { col: "cpu", class: "num", text: (s) => format.percent(s.cpuPercent) },
      { col: "memory", class: "num", text: (s) => format.bytes(s.managedMemoryBytes) },
      { col: "overloaded", text: (s) => (s.isOverloaded ? "yes" : "no") },
      { col: "partitionsLed", class: "num", text: (s) => format.count(s.partitionsLed) },
    ],
  });
  for (const cell of document.querySelectorAll('#silos-table td[data-col="status"]')) {
    cell.className = cell.textContent === "Active" ? "status-active" : "status-other";
  }
}

$("poll-interval").textContent = format.duration(INTERVAL_MS);
showSection(location.hash.slice(1));
poll();
