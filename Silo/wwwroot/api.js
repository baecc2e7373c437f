// The admin API as the console calls it: every call carries the API key the user gave (kept in sessionStorage, so
// it lasts as long as the tab and no longer), and every failure becomes an ApiError that says what the silo
// answered, so the console can show it or ask for a key.

const KEY_STORAGE = "granary.apiKey";
// Used when sessionStorage refuses to keep the key, so it still goes out for this page's lifetime.
let memoryKey = "";

// Earlier consoles kept the key in localStorage, where it outlived the tab: forget it there.
try {
  localStorage.removeItem(KEY_STORAGE);
} catch {
  // storage can be disabled
}

/** A failed call: HTTP status (0 when the silo did not answer) and the problem details' title and detail. */
export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }

  get needsKey() {
    return this.status === 401;
  }

  get notAllowed() {
    return this.status === 403;
  }
}

export function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return ""; // storage can be disabled; the console then asks again after each reload
  }
}

export function storeKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // see storedKey
  }
  memoryKey = key;
}

async function request(method, path, body) {
  const headers = { Accept: "application/json, application/problem+json" };
  const key = storedKey() || memoryKey;
  if (key) headers["X-Api-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    // Relative paths, so that the console also works behind a proxy that mounts the silo under a prefix.
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, "The silo did not answer", e.message);
  }
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, json?.title || `HTTP ${response.status} ${response.statusText}`, json?.detail || "");
  }
  return json;
}

const part = encodeURIComponent;

export const api = {
  /** Who the key in use authenticates as, and what it may do: to the cluster, and to the topics and groups named. */
  whoami: ({ topics = [], groups = [] } = {}) => {
    const query = [...topics.map((t) => `topic=${part(t)}`), ...groups.map((g) => `group=${part(g)}`)].join("&");
    return request("GET", query ? `api/v1/whoami?${query}` : "api/v1/whoami");
  },
  topics: () => request("GET", "api/v1/topics"),
  groups: () => request("GET", "api/v1/groups"),
  cluster: () => request("GET", "api/v1/cluster"),
  deadLetters: (topic, group, from = 0, limit = 100) =>
    request("GET", `api/v1/topics/${part(topic)}/groups/${part(group)}/dead-letters?from=${from}&limit=${limit}`),
  /** Redrives the letters at offsets [fromOffset, toOffset) of the dead-letter partitions; both null for all. */
  redrive: (topic, group, fromOffset, toOffset) =>
    request("POST", `api/v1/topics/${part(topic)}/groups/${part(group)}/dead-letters/redrive`,
      fromOffset == null ? {} : { fromOffset, toOffset }),
};
