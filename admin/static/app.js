// The turnkit dashboard: a page of apps, and a page per app with its
// balance, its usage by hour (uPlot), its live sessions, the fleet's relays
// and its API keys. It talks only to the admin API next to it (api/…),
// with the admin token as a Bearer header: no cookie is ever sent or set.
//
// The token arrives in the URL fragment (#token=…), which browsers never
// send to a server; the page moves it into this tab's session storage and
// takes it out of the address bar at once. Every value from the API is
// put in the page as text (textContent), never as markup.
"use strict";

(() => {
  const TOKEN_KEY = "turnkit-admin-token";
  const REFRESH_MS = 15000;

  const $ = (id) => document.getElementById(id);

  // el makes an element with text children (strings) or element children.
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") e.className = v;
      else if (k === "title") e.title = v;
      else if (k === "href") e.setAttribute("href", v);
      else e.dataset[k] = v;
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  // --- the token ---------------------------------------------------------

  // takeTokenFromFragment moves #token=… into session storage and rewrites
  // the address without it (other fragment parameters stay).
  function takeTokenFromFragment() {
    const params = new URLSearchParams(location.hash.slice(1));
    const t = params.get("token");
    if (t === null) return;
    params.delete("token");
    if (t !== "") sessionStorage.setItem(TOKEN_KEY, t);
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "#" + rest : ""));
  }

  const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

  // --- the API -----------------------------------------------------------

  class APIError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function api(path, options = {}) {
    const res = await fetch("api/" + path, {
      method: options.method || "GET",
      headers: Object.assign({ Authorization: "Bearer " + token() }, options.body ? { "Content-Type": "application/json" } : {}),
      body: options.body ? JSON.stringify(options.body) : undefined,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    if (!res.ok) throw new APIError(res.status, (body && body.detail) || res.statusText);
    return body;
  }

  const enc = encodeURIComponent;

  // --- formatting --------------------------------------------------------

  const UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

  // bytes formats a byte count in powers of 1000, as turnkit bills.
  function bytes(n) {
    let v = Math.abs(n);
    let u = 0;
    while (v >= 1000 && u < UNITS.length - 1) {
      v /= 1000;
      u++;
    }
    const s = u === 0 ? String(v) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
    return (n < 0 ? "−" : "") + s + " " + UNITS[u];
  }

  function bits(n) {
    const b = bytes(n / 8);
    return b.replace(/B$/, "b") + "/s";
  }

  // exact shows the count with a thin space every three digits.
  const exact = (n) => n.toLocaleString("en-US").replace(/,/g, "\u2009") + " bytes";

  function when(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/:\d\dZ$/, "Z");
  }

  function ago(iso) {
    if (!iso) return "never";
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (s < 90) return s + " s ago";
    if (s < 5400) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }

  const badge = (text, kind) => el("span", { class: "badge " + kind }, text);

  // fill replaces a table's rows; empty is the text of a table without any.
  function fill(table, rows, empty) {
    const body = table.tBodies[0];
    body.replaceChildren();
    if (rows.length === 0) {
      const td = el("td", { class: "empty" }, empty);
      td.colSpan = table.tHead.rows[0].cells.length;
      body.append(el("tr", {}, td));
      return;
    }
    for (const cells of rows) {
      body.append(el("tr", {}, ...cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : el("td", {}, c)))));
    }
  }

  const num = (text, title) => {
    const td = el("td", { class: "num" }, text);
    if (title) td.title = title;
    return td;
  };

  // --- views -------------------------------------------------------------

  const state = { view: "", appID: "", hours: 24, chart: null, timer: 0, appsNext: null };

  function show(id) {
    for (const s of ["login", "apps-view", "app-view"]) $(s).hidden = s !== id;
    $("signout").hidden = id === "login";
  }

  function showError(err) {
    if (err instanceof APIError && err.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin("The admin token was refused: " + err.message);
      return;
    }
    const box = $("error");
    box.textContent = err instanceof APIError ? err.status + ": " + err.message : String(err);
    box.hidden = false;
  }

  function showLogin(message) {
    stopRefresh();
    show("login");
    $("login-message").textContent = message || "";
    $("token-input").value = "";
    $("token-input").focus();
  }

  async function renderRelays(table) {
    const page = await api("relays?limit=500");
    fill(
      table,
      page.relays.map((r) => [
        el("td", {}, r.id, r.in_process ? el("span", { class: "muted" }, " (this process)") : ""),
        r.region,
        el("td", {}, badge(r.health, r.health), r.draining ? badge("draining", "draining") : ""),
        num(r.capacity > 0 ? r.allocations + " / " + r.capacity : String(r.allocations)),
        num(bits(r.bitrate)),
        el("td", { title: when(r.reported_at) }, ago(r.reported_at)),
      ]),
      "No relay has reported."
    );
    return page.relays.length;
  }

  function appRow(a) {
    const link = el("a", { href: "#app=" + enc(a.id) }, a.id);
    return [
      el("td", {}, link),
      a.name || el("span", { class: "muted" }, "—"),
      el("td", {}, badge(a.status, a.status)),
      a.regions.length ? a.regions.join(", ") : el("span", { class: "muted" }, "all"),
      when(a.created_at),
    ];
  }

  async function renderApps(more) {
    const path = "apps?limit=100" + (more && state.appsNext ? "&after=" + enc(state.appsNext) : "");
    const [page] = await Promise.all([api(path), more ? null : renderRelays($("fleet-relays"))]);
    const table = $("apps-table");
    const rows = page.apps.map(appRow);
    if (more) {
      for (const cells of rows) table.tBodies[0].append(el("tr", {}, ...cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : el("td", {}, c)))));
    } else {
      fill(table, rows, "No app yet: create one with POST api/apps.");
    }
    state.appsNext = page.next;
    $("apps-more").hidden = !page.next;
  }

  async function renderBalance(appID) {
    const b = await api("apps/" + enc(appID) + "/balance");
    const dl = $("balance");
    dl.replaceChildren();
    const row = (name, value, title) => {
      const dd = el("dd", {}, value);
      if (title) dd.title = title;
      dl.append(el("dt", {}, name), dd);
    };
    row("Total", bytes(b.total), exact(b.total));
    row("Subscription", bytes(b.subscription), exact(b.subscription));
    row("Pay as you go", bytes(b.payg), exact(b.payg));
    row("Allowance", b.allowance > 0 ? bytes(b.allowance) + " / month" : "no plan", b.allowance > 0 ? exact(b.allowance) : "");
    row("Period start", when(b.period_start));
    row("Low-balance threshold", b.low_threshold > 0 ? bytes(b.low_threshold) + (b.low_notified ? " (below)" : "") : "off");
  }

  async function renderUsage(appID) {
    const u = await api("apps/" + enc(appID) + "/usage?from=" + enc(new Date(Date.now() - state.hours * 3600e3).toISOString()));
    const xs = u.buckets.map((b) => new Date(b.start).getTime() / 1000);
    const ys = u.buckets.map((b) => b.bytes);
    $("usage-total").textContent = "· " + bytes(u.total) + " in " + u.buckets.length + " h";
    $("usage-total").title = exact(u.total);
    const box = $("usage-chart");
    const width = Math.max(320, box.clientWidth || 640);
    if (state.chart) {
      state.chart.setData([xs, ys]);
      return;
    }
    box.replaceChildren();
    state.chart = new uPlot(
      {
        width,
        height: 240,
        series: [
          {},
          {
            label: "bytes",
            stroke: "#2f6fde",
            fill: "rgba(47, 111, 222, 0.25)",
            paths: uPlot.paths.bars({ size: [0.8, 40], align: 1 }),
            points: { show: false },
            value: (_, v) => (v == null ? "—" : bytes(v)),
          },
        ],
        axes: [{}, { values: (_, ticks) => ticks.map(bytes), size: 70 }],
        // Each bar is an hour from its start: the x range ends an hour
        // after the last start.
        scales: { x: { time: true, range: (_, lo, hi) => [lo, hi + 3600] }, y: { range: (_, lo, hi) => [0, Math.max(hi, 1000) * 1.05] } },
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      },
      [xs, ys],
      box
    );
  }

  async function renderSessions(appID) {
    const page = await api("apps/" + enc(appID) + "/sessions?limit=100");
    fill(
      $("sessions-table"),
      page.sessions.map((s) => [
        el("td", { title: s.id }, when(s.started_at)),
        s.relay_id,
        s.transport || el("span", { class: "muted" }, "—"),
        s.key_id || "—",
        s.gateway || "—",
        s.metadata.room || "—",
        [s.metadata.initiator, s.metadata.receiver].filter(Boolean).join(" → ") || "—",
        num(bytes(s.to_peer), exact(s.to_peer)),
        num(bytes(s.to_client), exact(s.to_client)),
      ]),
      "No live session."
    );
    return page.sessions.length;
  }

  async function renderKeys(appID) {
    const page = await api("apps/" + enc(appID) + "/keys?limit=100");
    fill(
      $("keys-table"),
      page.keys.map((k) => [k.id, when(k.created_at), k.revoked_at ? el("td", {}, badge("revoked " + when(k.revoked_at), "paused")) : "—"]),
      "No key."
    );
  }

  async function renderApp(appID, refresh) {
    if (!refresh) {
      if (state.chart) {
        state.chart.destroy();
        state.chart = null;
      }
      $("app-title").textContent = appID;
      $("app-meta").replaceChildren();
    }
    const app = await api("apps/" + enc(appID));
    $("app-title").textContent = app.name || app.id;
    $("app-meta").replaceChildren(
      badge(app.status, app.status),
      " ",
      el("code", {}, app.id),
      " · regions: " + (app.regions.length ? app.regions.join(", ") : "all") + " · created " + when(app.created_at)
    );
    document.title = (app.name || app.id) + " · turnkit admin";
    await Promise.all([renderBalance(appID), renderUsage(appID), renderSessions(appID), renderRelays($("app-relays")), renderKeys(appID)]);
  }

  // render shows the view the fragment names: #app=<id> or the apps.
  async function render(refresh) {
    if (!token()) {
      showLogin();
      return;
    }
    const params = new URLSearchParams(location.hash.slice(1));
    const appID = params.get("app");
    $("error").hidden = true;
    try {
      if (appID) {
        if (!refresh || state.view !== "app" || state.appID !== appID) refresh = false;
        state.view = "app";
        state.appID = appID;
        show("app-view");
        await renderApp(appID, refresh);
      } else {
        state.view = "apps";
        document.title = "turnkit admin";
        show("apps-view");
        await renderApps(false);
      }
      scheduleRefresh();
    } catch (err) {
      showError(err);
    }
  }

  function stopRefresh() {
    clearTimeout(state.timer);
    state.timer = 0;
  }

  function scheduleRefresh() {
    stopRefresh();
    state.timer = setTimeout(() => {
      if (!document.hidden) admin.rendered = render(true);
      else scheduleRefresh();
    }, REFRESH_MS);
  }

  // --- wiring ------------------------------------------------------------

  // admin is the page's state for people and tests at the console:
  // rendered settles when the last render finished, chart is the uPlot
  // chart of the usage (its data is chart.data).
  const admin = {
    rendered: Promise.resolve(),
    get chart() {
      return state.chart;
    },
  };
  window.turnkitAdmin = admin;

  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = $("token-input").value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    admin.rendered = render(false);
  });
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("Signed out.");
  });
  $("apps-more").addEventListener("click", () => {
    admin.rendered = renderApps(true).catch(showError);
  });
  for (const b of document.querySelectorAll(".range button")) {
    b.addEventListener("click", () => {
      state.hours = Number(b.dataset.hours);
      for (const o of document.querySelectorAll(".range button")) o.setAttribute("aria-pressed", String(o === b));
      admin.rendered = renderUsage(state.appID).catch(showError);
    });
  }
  window.addEventListener("hashchange", () => {
    takeTokenFromFragment();
    admin.rendered = render(false);
  });
  window.addEventListener("resize", () => {
    const box = $("usage-chart");
    if (state.chart && box.clientWidth) state.chart.setSize({ width: box.clientWidth, height: 240 });
  });

  takeTokenFromFragment();
  admin.rendered = render(false);
})();
