// The lethe dashboard: plain ES module, no framework, no build step. The token
// lives in sessionStorage (this tab only); every number comes from the API.
const TOKEN_KEY = "lethe.token";
const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);
let timer;

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, init = {}) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ""}` };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { ...init, headers });
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text();
  if (!res.ok)
    throw new HttpError(res.status, body?.error?.code ?? "HTTP", body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}

function fill(tableId, rows, columns) {
  const body = $(tableId).tBodies[0];
  if (rows.length === 0) {
    body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: columns }, "none")));
    return;
  }
  body.replaceChildren(...rows);
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function span(seconds) {
  if (seconds <= 0) return "none";
  const units = [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ];
  const parts = [];
  let rest = Math.round(seconds);
  for (const [u, n] of units) {
    if (rest >= n && parts.length < 2) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return parts.join(" ");
}

function relative(iso) {
  if (!iso) return "";
  const s = (Date.parse(iso) - Date.now()) / 1000;
  return s >= 0 ? `in ${span(s) === "none" ? "<1s" : span(s)}` : `${span(-s)} ago`;
}

async function loadLedger() {
  const [ledger, schedule] = await Promise.all([api("/v1/ledger"), api("/v1/schedule?limit=15")]);
  const v = ledger.verification;
  const badge = $("verification");
  badge.textContent = v ? (v.ok ? "verified" : "VERIFICATION FAILED") : "not verified yet";
  badge.className = `badge ${v ? (v.ok ? "ok" : "bad") : ""}`;
  badge.dataset.ok = v ? String(v.ok) : "unknown";
  $("ledger-entries").textContent = `${ledger.entries} entries`;
  $("verified-at").textContent = v
    ? `last verified ${when(v.at)} (${v.entries} entries)${v.reason ? `: ${v.reason}` : ""}`
    : "";
  $("leader").textContent = schedule.leader
    ? `scheduler leader: ${schedule.leader.instance} (epoch ${schedule.leader.epoch})`
    : "no scheduler leader right now";
  fill(
    "claims",
    schedule.claims.map((c) =>
      el(
        "tr",
        {},
        el("td", {}, c.job),
        el("td", {}, when(c.fireTime)),
        el("td", { class: `status-${c.status}` }, c.status),
        el("td", {}, c.instance),
        el("td", {}, c.runId ?? ""),
      ),
    ),
    5,
  );
}

async function loadDatasets() {
  const { datasets } = await api("/v1/datasets");
  fill(
    "datasets",
    datasets.map((d) =>
      el(
        "tr",
        { "data-dataset": d.name },
        el("td", {}, d.name),
        el("td", {}, `${d.store} (${d.kind})`),
        el("td", { class: "num", "data-field": "total" }, String(d.total)),
        el("td", { class: "num", "data-field": "expired" }, String(d.expired)),
        el("td", { class: "num", "data-field": "held" }, String(d.held ?? 0)),
        el("td", { class: d.lagSeconds > 0 ? "lag-bad" : "", "data-field": "lag" }, span(d.lagSeconds)),
        el(
          "td",
          { title: d.nextRun ?? "" },
          d.nextRun ? `${when(d.nextRun)} (${relative(d.nextRun)})` : "not scheduled",
        ),
        el("td", {}, el("code", {}, d.schedule)),
      ),
    ),
    8,
  );
}

async function loadStores() {
  const { stores } = await api("/readyz");
  fill(
    "stores",
    Object.entries(stores ?? {}).map(([name, st]) =>
      el(
        "tr",
        { "data-store": name },
        el("td", {}, name),
        el("td", { class: st.up ? "" : "lag-bad", "data-field": "health" }, st.up ? "up" : `down: ${st.reason ?? ""}`),
      ),
    ),
    2,
  );
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

async function loadForecast() {
  const f = await api("/v1/forecast?days=30");
  const w = 600;
  const h = 170;
  const pad = 22;
  const max = Math.max(1, ...f.total);
  const bw = (w - pad) / f.days.length;
  const chart = svg("svg", {
    viewBox: `0 0 ${w} ${h}`,
    preserveAspectRatio: "xMinYMid meet",
    role: "img",
    "aria-label": "items expiring per day",
  });
  f.days.forEach((day, i) => {
    const n = f.total[i];
    const bh = ((h - 2 * pad) * n) / max;
    const bar = svg("rect", {
      class: "bar",
      x: pad + i * bw + 1,
      y: h - pad - bh,
      width: bw - 2,
      height: Math.max(bh, 0),
      "data-day": day,
      "data-count": n,
    });
    const per = f.datasets.filter((d) => d.counts?.[i]).map((d) => `${d.name}: ${d.counts[i]}`);
    bar.append(svg("title", {}, `${day}: ${n} item(s)${per.length ? ` (${per.join(", ")})` : ""}`));
    chart.append(bar);
    if (i % 5 === 0) chart.append(svg("text", { class: "axis", x: pad + i * bw, y: h - 6 }, day.slice(5)));
  });
  chart.append(svg("text", { class: "axis", x: 0, y: 12 }, String(max)));
  chart.append(svg("text", { class: "axis", x: 0, y: h - pad }, "0"));
  const sum = f.total.reduce((a, b) => a + b, 0);
  $("forecast").replaceChildren(
    chart,
    el("p", { class: "muted" }, `${sum} item(s) expire in the next ${f.days.length} days.`),
  );
}

async function loadRequests() {
  const { requests } = await api("/v1/erasure-requests");
  const recent = requests.slice(-50).reverse();
  fill(
    "requests",
    recent.map((r) =>
      el(
        "tr",
        { class: r.overdue ? "overdue" : "", "data-request": r.id, "data-status": r.status },
        el("td", {}, r.id),
        el("td", { class: `status-${r.status}` }, r.status),
        el("td", {}, when(r.receivedAt)),
        el("td", {}, `${when(r.dueAt)}${r.overdue ? " (OVERDUE)" : ""}`),
      ),
    ),
    4,
  );
}

/**
 * One count from a run's summary, or "" when the run has none: a retention run's
 * summary is an array of per-dataset results (summed here), an erasure run's an
 * object of totals ({subjects, found, deleted, held, failed, ...}).
 */
function runCount(summary, key) {
  const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const perDataset = Array.isArray(summary) ? summary : Array.isArray(summary?.datasets) ? summary.datasets : undefined;
  if (perDataset) return String(perDataset.reduce((n, d) => n + (num(d?.[key]) ?? 0), 0));
  const v = summary && typeof summary === "object" ? num(summary[key]) : undefined;
  return v === undefined ? "" : String(v);
}

async function loadRuns() {
  const { runs } = await api("/v1/runs?limit=15");
  fill(
    "runs",
    runs.map((r) =>
      el(
        "tr",
        { "data-run": r.id },
        el("td", {}, r.id),
        el("td", {}, r.kind),
        el("td", { class: `status-${r.status}` }, r.status),
        el("td", {}, when(r.startedAt)),
        el("td", {}, when(r.finishedAt)),
        el("td", { class: "num", "data-field": "deleted" }, runCount(r.summary, "deleted")),
        el("td", { class: "num", "data-field": "held" }, runCount(r.summary, "held")),
        el("td", { class: "num", "data-field": "failed" }, runCount(r.summary, "failed")),
      ),
    ),
    8,
  );
}

async function loadHolds() {
  const { holds } = await api("/v1/holds");
  fill(
    "holds",
    holds.map((h) =>
      el(
        "tr",
        {},
        el("td", {}, h.id),
        el("td", {}, h.dataset ? `dataset ${h.dataset}` : `subject #${(h.subjectHash ?? "").slice(0, 12)}`),
        el("td", {}, h.reason),
        el("td", {}, when(h.until)),
      ),
    ),
    4,
  );
}

async function loadAlerts() {
  const { alerts } = await api("/v1/janitor/alerts?limit=20");
  fill(
    "alerts",
    alerts.map((a) =>
      el(
        "tr",
        {},
        el("td", {}, String(a.seq)),
        el("td", {}, when(a.at)),
        el("td", {}, a.dataset ?? ""),
        el("td", {}, a.reason ?? ""),
      ),
    ),
    4,
  );
}

async function refresh() {
  const loaders = [loadLedger, loadDatasets, loadStores, loadForecast, loadRequests, loadRuns, loadHolds, loadAlerts];
  const results = await Promise.allSettled(loaders.map((f) => f()));
  const failures = results.filter((r) => r.status === "rejected").map((r) => r.reason);
  if (failures.some((e) => e instanceof HttpError && e.status === 401)) return signOut("the token is no longer valid");
  $("refresh-error").textContent = failures.length ? `Some panels could not load: ${failures[0].message}` : "";
  document.body.dataset.loaded = "true";
}

function show(signedIn) {
  $("login-view").hidden = signedIn;
  $("app-view").hidden = !signedIn;
  $("logout").hidden = !signedIn;
}

function signOut(message = "") {
  clearInterval(timer);
  sessionStorage.removeItem(TOKEN_KEY);
  $("who").textContent = "";
  $("login-error").textContent = message;
  show(false);
}

async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await api("/v1/ledger");
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    const why =
      e.status === 401 ? "invalid or revoked token" : e.status === 403 ? "this token lacks the read scope" : e.message;
    $("login-error").textContent = `Sign-in failed: ${why}`;
    return;
  }
  $("login-error").textContent = "";
  $("who").textContent = `token ${token.split("_")[1] ?? ""}`;
  show(true);
  await refresh();
  clearInterval(timer);
  timer = setInterval(refresh, REFRESH_MS);
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const token = $("token").value.trim();
  $("token").value = "";
  void signIn(token);
});

$("logout").addEventListener("click", () => signOut());

$("verify-now").addEventListener("click", async () => {
  $("verification").textContent = "verifying…";
  try {
    await api("/v1/audit/verify", { method: "POST" });
  } finally {
    await loadLedger().catch(() => undefined);
  }
});

$("request-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const subject = $("subject").value.trim();
  const reason = $("reason").value.trim();
  const msg = $("request-message");
  try {
    const r = await api("/v1/erasure-requests", {
      method: "POST",
      body: JSON.stringify(reason ? { subject, reason } : { subject }),
    });
    $("subject").value = "";
    msg.textContent = `Request ${r.id} accepted (due ${when(r.dueAt)}).`;
    msg.dataset.requestId = r.id;
    msg.className = "";
    await loadRequests();
  } catch (e) {
    msg.textContent = `Not accepted: ${e.message}`;
    msg.className = "error";
  }
});

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);
else show(false);
