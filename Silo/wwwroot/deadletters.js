// The dead-letters section: choose a topic and group, list the group's dead letters, and redrive one or all (offered
// only when the signed-in principal may: Alter on the group and Consume on its topic).

import { api } from "./api.js";
import { el, format, syncTable } from "./dom.js";

const PREVIEW_CHARS = 120;

function preview(letter) {
  const text = letter.payloadEncoding === "base64" ? `base64: ${letter.payload}` : letter.payload;
  const cut = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
  return `${cut} (${format.count(letter.payloadBytes)} B)`;
}

// Replaces a select's options only when the choices changed, so that an open list or a choice is not disturbed.
function setOptions(select, values, placeholder) {
  const wanted = ["", ...values];
  const have = [...select.options].map((o) => o.value);
  if (have.length === wanted.length && have.every((v, i) => v === wanted[i])) return;
  const current = select.value;
  select.replaceChildren(el("option", { value: "", text: placeholder }), ...values.map((v) => el("option", { value: v, text: v })));
  select.value = values.includes(current) ? current : "";
}

export class DeadLetters {
  /** `onError(error)` shows a failed call in the console's banner. */
  constructor(onError) {
    this.onError = onError;
    this.topicSelect = document.getElementById("dl-topic");
    this.groupSelect = document.getElementById("dl-group");
    this.fromInput = document.getElementById("dl-from");
    this.redriveAll = document.getElementById("redrive-all");
    this.result = document.getElementById("redrive-result");
    this.tbody = document.querySelector("#dead-letters-table tbody");
    this.groups = [];
    this.loadedFor = "";
    this.mayRedrive = true;
    this.notAllowed = document.getElementById("redrive-not-allowed");
    this.topicSelect.addEventListener("change", () => {
      this.fillGroups();
      this.changed();
    });
    this.groupSelect.addEventListener("change", () => this.changed());
    this.fromInput.addEventListener("change", () => this.changed());
    this.redriveAll.addEventListener("click", () => this.redriveEverything());
    this.render([]);
  }

  get topic() {
    return this.topicSelect.value;
  }

  get group() {
    return this.groupSelect.value;
  }

  get from() {
    const n = Number.parseInt(this.fromInput.value, 10);
    return Number.isFinite(n) && n >= 0 ? n : 0;
  }

  /** Offers the topics that have groups, and the chosen topic's groups. */
  setGroups(groups) {
    this.groups = groups;
    setOptions(this.topicSelect, [...new Set(groups.map((g) => g.topic))].sort(), "Choose a topic…");
    this.fillGroups();
    this.redriveAll.disabled = !(this.topic && this.group);
  }

  fillGroups() {
    setOptions(this.groupSelect, this.groups.filter((g) => g.topic === this.topic).map((g) => g.group).sort(), "Choose a group…");
  }

  changed() {
    this.result.textContent = "";
    this.redriveAll.disabled = !(this.topic && this.group);
    this.refresh().catch(this.onError);
  }

  /** Loads the chosen group's dead letters; throws the ApiError of a failed call. */
  async refresh() {
    const { topic, group, from } = this;
    if (!topic || !group) {
      this.render([]);
      return;
    }
    const [letters, me] = await Promise.all([
      api.deadLetters(topic, group, from),
      api.whoami({ topics: [topic], groups: [`${topic}/${group}`] }),
    ]);
    // A slow answer for an earlier choice must not overwrite the current one.
    if (topic !== this.topic || group !== this.group || from !== this.from) return;
    this.mayRedrive = me.superuser
      || (me.groups[`${topic}/${group}`]?.includes("alter") && me.topics[topic]?.includes("consume")) === true;
    this.render(letters);
  }

  render(letters) {
    const chosen = this.topic && this.group;
    this.redriveAll.hidden = !this.mayRedrive;
    this.notAllowed.hidden = this.mayRedrive || !chosen;
    syncTable(this.tbody, letters, {
      // The topic and group are in the key: a row (and its Redrive button) belongs to one group's letter.
      key: (l) => `${this.topic}/${this.group}/${l.partition}/${l.offset}`,
      rowAttrs: (l) => ({ "data-testid": "dead-letter-row", "data-partition": l.partition, "data-offset": l.offset }),
      empty: chosen ? "This group has no dead letters from this offset." : "Choose a topic and a group.",
      columns: [
        { col: "partition", class: "num", text: (l) => String(l.partition) },
        { col: "offset", class: "num", text: (l) => String(l.offset) },
        { col: "reason", text: (l) => l.reason },
        { col: "attempts", class: "num", text: (l) => format.count(l.attempts) },
        { col: "deadLetteredAt", text: (l) => format.time(l.deadLetteredAt) },
        { col: "sourcePartition", class: "num", text: (l) => String(l.sourcePartition) },
        { col: "sourceOffset", class: "num", text: (l) => String(l.sourceOffset) },
        { col: "key", text: (l) => l.key ?? "—" },
        { col: "payload", class: "payload", text: preview },
        {
          col: "actions",
          build: (l) => el("button", {
            type: "button",
            "data-testid": "redrive-button",
            "aria-label": `Redrive the dead letter at offset ${l.offset}`,
            text: "Redrive",
            onclick: (e) => this.redrive(e.currentTarget, l.offset, l.offset + 1),
          }),
        },
      ],
    });
    for (const button of this.tbody.querySelectorAll('[data-testid="redrive-button"]')) button.hidden = !this.mayRedrive;
  }

  async redrive(button, fromOffset, toOffset) {
    const { topic, group } = this;
    button.disabled = true;
    try {
      const { redriven } = await api.redrive(topic, group, fromOffset, toOffset);
      this.report(`Redriven: ${redriven} dead ${redriven === 1 ? "letter" : "letters"} (offset ${fromOffset}) to ${topic} for group ${group}.`, redriven);
    } catch (e) {
      this.fail(e);
    } finally {
      button.disabled = false;
    }
  }

  async redriveEverything() {
    const { topic, group } = this;
    if (!window.confirm(`Publish every dead letter of group ${group} again to ${topic}?`)) return;
    this.redriveAll.disabled = true;
    try {
      const { redriven } = await api.redrive(topic, group, null, null);
      this.report(`Redriven: ${redriven} dead ${redriven === 1 ? "letter" : "letters"} to ${topic} for group ${group}.`, redriven);
    } catch (e) {
      this.fail(e);
    } finally {
      this.redriveAll.disabled = !(this.topic && this.group);
    }
  }

  report(text, count) {
    this.result.classList.remove("failed");
    this.result.dataset.redriven = String(count);
    this.result.textContent = text;
  }

  fail(error) {
    this.result.classList.add("failed");
    delete this.result.dataset.redriven;
    this.result.textContent = `Redrive failed: ${error.message}`;
    this.onError(error);
  }
}
